'use strict'
// The Node side of the browser chat: one simple-peer-native Peer per browser, started by
// the bot (initiator) when the signalling server says a browser joined. Chat lines are
// JSON { name, text }; each goes to every other browser and comes back as an echo.
const WebSocket = require('ws')
const Peer = require('../..')

const BOT_NAME = 'echo-bot'

function startBot (signallingUrl) {
  const socket = new WebSocket(signallingUrl)
  const peers = new Map() // browser id -> Peer

  const say = (peer, name, text) => {
    if (peer.connected) peer.send(JSON.stringify({ name, text }))
  }

  function join (id) {
    const peer = new Peer({
      initiator: true,
      // No STUN or TURN: the demo runs on one machine. includeLoopback lets a browser on
      // a machine with no other interface reach the bot at 127.0.0.1.
      config: { iceServers: [] },
      native: { includeLoopback: true }
    })
    peers.set(id, peer)
    peer.on('signal', signal => socket.send(JSON.stringify({ to: id, signal })))
    peer.on('connect', () => say(peer, BOT_NAME, `hello! ${peers.size - 1} other browser(s) here`))
    peer.on('data', raw => {
      let line
      try { line = JSON.parse(raw) } catch { return }
      const name = String(line.name || 'anonymous').slice(0, 40)
      const text = String(line.text || '').slice(0, 2000)
      for (const [otherId, other] of peers) {
        if (otherId !== id) say(other, name, text)
      }
      say(peer, BOT_NAME, `echo: ${text}`)
    })
    peer.on('error', err => console.error(`peer ${id}: ${err.code || ''} ${err.message}`))
    peer.on('close', () => peers.delete(id))
  }

  socket.on('message', raw => {
    const message = JSON.parse(raw)
    if (message.type === 'join') join(message.id)
    if (message.type === 'leave') peers.get(message.id)?.destroy()
    if (message.type === 'signal') {
      const { candidate } = message.signal
      // Browsers hide their addresses behind mDNS names; resolving one would send a
      // multicast query onto the LAN. The browser's checks reach us anyway.
      if (candidate && / [0-9a-f-]+\.local /i.test(candidate.candidate || '')) return
      peers.get(message.from)?.signal(message.signal)
    }
  })

  return new Promise((resolve, reject) => {
    socket.once('error', reject)
    socket.once('open', () => resolve({
      close () {
        for (const peer of peers.values()) peer.destroy()
        socket.close()
      }
    }))
  })
}

module.exports = { startBot }
