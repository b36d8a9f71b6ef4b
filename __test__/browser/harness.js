'use strict'
// Debian's headless Chromium with simple-peer 9.11.1 in a page, wired to a Node peer: shared
// by the browser tests and the bench. The page is served from 127.0.0.1.
const { EventEmitter } = require('events')
const fs = require('fs')
const os = require('os')
const path = require('path')
const http = require('http')

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--autoplay-policy=no-user-gesture-required'] // Web Audio runs without a click

const files = {
  '/': [path.join(__dirname, 'page.html'), 'text/html'],
  '/simplepeer.min.js': [require.resolve('simple-peer/simplepeer.min.js'), 'application/javascript']
}

const chromiumAvailable = () => fs.existsSync(CHROMIUM)

// Headless Chromium with a fresh, empty profile.
function launchChromium () {
  const { chromium } = require('playwright-core')
  return chromium.launchPersistentContext(fs.mkdtempSync(path.join(os.tmpdir(), 'spn-chromium-')), {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS
  })
}

// Starts the page server and Chromium (a fresh, empty profile each time).
async function launch () {
  const server = http.createServer((req, res) => {
    const file = files[req.url]
    if (!file) return res.writeHead(404).end()
    res.writeHead(200, { 'content-type': file[1] })
    fs.createReadStream(file[0]).pipe(res)
  })
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve))
  const context = await launchChromium()
  return {
    context,
    baseUrl: `http://127.0.0.1:${server.address().port}/`,
    async close () {
      await context.close()
      server.close()
    }
  }
}

// Opens a page with a browser peer and wires it to a new Node peer; returns both sides.
// `browser` re-emits the page peer's events; `filterToNode` may rewrite or replace signals.
async function browserPair (session, createNodePeer, { browserOpts = {}, filterToNode = data => data } = {}) {
  const page = await session.context.newPage()
  const browser = new EventEmitter()
  const toNode = []
  let node = null
  const deliver = data => {
    const passed = filterToNode(data)
    if (passed !== undefined && !node.destroyed) node.signal(passed)
  }
  await page.exposeFunction('toNodeSignal', data => node ? deliver(data) : toNode.push(data))
  await page.exposeFunction('toNodeEvent', (name, value) => browser.emit(name, value))
  await page.goto(session.baseUrl)
  // The page's peer exists before Node's, so an initiating Node peer's offer has somewhere to go.
  await page.evaluate(opts => window.browserPeer.start(opts), browserOpts)
  node = createNodePeer()
  node.on('signal', data => { page.evaluate(d => window.browserPeer.signal(d), data).catch(() => {}) })
  toNode.splice(0).forEach(deliver)
  return { page, node, browser }
}

module.exports = { CHROMIUM, chromiumAvailable, launchChromium, launch, browserPair }
