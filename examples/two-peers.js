'use strict'
// Two peers in one process: they connect, chat, and stream a few MiB through the Duplex.
// Run it with `npm run demo` (inside a private network namespace; no STUN server is used).
const crypto = require('crypto')
const Peer = require('..')

const MIB = 1024 * 1024
const total = Number(process.argv[2] || 32) * MIB
const started = Date.now()
const elapsed = () => `${String(Date.now() - started).padStart(5)} ms`

const alice = new Peer({ initiator: true, config: { iceServers: [] } })
const bob = new Peer({ config: { iceServers: [] } })

// The signalling channel: here a direct hand-over, in real life a WebSocket or similar.
alice.on('signal', data => bob.signal(data))
bob.on('signal', data => alice.signal(data))

alice.on('connect', () => {
  console.log(`${elapsed()}  connected: ${alice.localAddress}:${alice.localPort} -> ${alice.remoteAddress}:${alice.remotePort}`)
  alice.send('hello bob, here come some bytes')
})

let phase = 'chat'
let received = 0
const hash = crypto.createHash('sha256')
let streamStarted
bob.on('data', data => {
  if (phase === 'chat') {
    console.log(`${elapsed()}  bob got: ${data}`)
    phase = 'stream'
    bob.send('ready')
    return
  }
  received += data.length
  hash.update(data)
  if (received === total) {
    const seconds = (Date.now() - streamStarted) / 1000
    console.log(`${elapsed()}  bob received ${total / MIB} MiB, sha256 ${hash.digest('hex').slice(0, 16)}…`)
    console.log(`           throughput: ${(total / MIB / seconds).toFixed(1)} MiB/s`)
  }
})

alice.once('data', data => {
  console.log(`${elapsed()}  alice got: ${data}`)
  streamStarted = Date.now()
  const sent = crypto.createHash('sha256')
  const chunk = crypto.randomBytes(64 * 1024)
  let written = 0
  const writeMore = () => {
    while (written < total) {
      sent.update(chunk)
      written += chunk.length
      if (!alice.write(chunk)) return alice.once('drain', writeMore)
    }
    console.log(`${elapsed()}  alice wrote ${total / MIB} MiB, sha256 ${sent.digest('hex').slice(0, 16)}…; ending`)
    alice.end() // flushes, then closes both sides
  }
  writeMore()
})

for (const [name, peer] of [['alice', alice], ['bob', bob]]) {
  peer.on('error', err => console.error(`${name} error ${err.code}: ${err.message}`))
  peer.on('close', () => console.log(`${elapsed()}  ${name} closed`))
}
