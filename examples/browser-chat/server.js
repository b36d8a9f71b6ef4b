'use strict'
// Browser chat: an HTTP server for the page, WebSocket signalling, and a Node peer (bot.js)
// that every browser connects to over WebRTC. The bot relays chat lines between browsers
// and echoes each one back. Run it with `npm run demo`, then open the printed URL.
const fs = require('fs')
const http = require('http')
const path = require('path')
const crypto = require('crypto')
const { WebSocketServer } = require('ws')
const { startBot } = require('./bot')

const files = {
  '/': [path.join(__dirname, 'index.html'), 'text/html; charset=utf-8'],
  '/simplepeer.min.js': [require.resolve('simple-peer/simplepeer.min.js'), 'application/javascript']
}

// Resolves to { url, close } once the server listens and the bot has joined.
async function startChat ({ port = 8080, host = '127.0.0.1' } = {}) {
  const server = http.createServer((req, res) => {
    const file = files[new URL(req.url, 'http://x').pathname]
    if (!file) return res.writeHead(404).end('not found')
    res.writeHead(200, { 'content-type': file[1] })
    fs.createReadStream(file[0]).pipe(res)
  })
  const clients = new Map() // id -> WebSocket
  const wss = new WebSocketServer({ server })
  let botId = null

  // Signalling is a relay: { to, signal } from one client reaches `to` as { from, signal }.
  // Browsers only ever talk to the bot; the bot learns who joins and leaves.
  wss.on('connection', (socket, req) => {
    const id = crypto.randomBytes(4).toString('hex')
    const isBot = new URL(req.url, 'http://x').searchParams.get('role') === 'bot' && botId === null
    clients.set(id, socket)
    if (isBot) botId = id
    const toBot = message => {
      const bot = clients.get(botId)
      if (bot) bot.send(JSON.stringify(message))
    }
    socket.send(JSON.stringify({ type: 'welcome', id, botId }))
    if (!isBot) toBot({ type: 'join', id })
    socket.on('message', raw => {
      let message
      try { message = JSON.parse(raw) } catch { return }
      const target = clients.get(message.to)
      if (target && (isBot || message.to === botId)) {
        target.send(JSON.stringify({ type: 'signal', from: id, signal: message.signal }))
      }
    })
    socket.on('close', () => {
      clients.delete(id)
      if (!isBot) toBot({ type: 'leave', id })
    })
  })

  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, resolve)
  })
  const address = server.address()
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}/`
  const bot = await startBot(url.replace(/^http/, 'ws') + '?role=bot')

  return {
    url,
    async close () {
      bot.close()
      for (const socket of clients.values()) socket.terminate()
      wss.close()
      await new Promise(resolve => server.close(resolve))
    }
  }
}

module.exports = { startChat }

if (require.main === module) {
  const port = Number(process.env.PORT || 8080)
  startChat({ port }).then(chat => {
    console.log(`browser chat on ${chat.url}  (open it in two tabs; Ctrl-C stops)`)
    process.once('SIGINT', () => chat.close().then(() => process.exit(0)))
    process.once('SIGTERM', () => chat.close().then(() => process.exit(0)))
  }, err => {
    console.error(`could not start the chat: ${err.message}`)
    process.exit(1)
  })
}
