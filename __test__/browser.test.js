'use strict'
// A Node peer against simple-peer 9.11.1 running in Debian's headless Chromium, with its
// default mDNS hiding of host candidates on. Needs /usr/bin/chromium (CI installs it).
const test = require('node:test')
const assert = require('node:assert/strict')
const { Peer, LOCAL, waitFor, withTimeout, destroyAll, drain } = require('./helpers')
const harness = require('./browser/harness')

const skip = harness.chromiumAvailable()
  ? false
  : `Chromium not found at ${harness.CHROMIUM}: install it (apt-get install chromium) to run the browser tests`

let session

test.before(async () => {
  if (!skip) session = await harness.launch()
})

test.after(async () => {
  if (session) await session.close()
})

function browserPair ({ nodeOpts = {}, ...rest } = {}) {
  return harness.browserPair(session, () => new Peer(Object.assign({ config: LOCAL }, nodeOpts)), rest)
}

async function connected ({ node, browser }) {
  await Promise.all([waitFor(node, 'connect', 20000), waitFor(browser, 'connect', 20000)])
}

async function finish ({ page, node }) {
  await destroyAll(node)
  await page.close()
}

for (const [name, nodeOpts, browserOpts] of [
  ['browser initiator, trickle', {}, { initiator: true }],
  ['Node initiator, trickle', { initiator: true }, {}],
  ['browser initiator, no trickle', { trickle: false }, { initiator: true, trickle: false }],
  ['Node initiator, no trickle', { initiator: true, trickle: false }, { trickle: false }]
]) {
  test(`${name}: connects and exchanges text and binary both ways`, { skip, timeout: 60000 }, async () => {
    const pair = await browserPair({ nodeOpts, browserOpts: Object.assign({ objectMode: true }, browserOpts) })
    await connected(pair)
    const { page, node, browser } = pair
    assert.equal(node.remoteFamily, 'IPv4')

    // Node → browser: a string stays a string message; binary stays byte-exact.
    let got = waitFor(browser, 'data')
    node.send('héllo from node')
    assert.deepEqual(await got, { kind: 'string', bytes: 'héllo from node' })
    got = waitFor(browser, 'data')
    node.send(Buffer.from([0, 1, 254, 255]))
    assert.deepEqual(await got, { kind: 'binary', bytes: [0, 1, 254, 255] })

    // Browser → Node.
    got = waitFor(node, 'data')
    await page.evaluate(() => window.browserPeer.send('string', 'héllo from chromium'))
    assert.equal((await got).toString(), 'héllo from chromium')
    got = waitFor(node, 'data')
    await page.evaluate(() => window.browserPeer.send('binary', [9, 8, 0, 255]))
    assert.deepEqual(await got, Buffer.from([9, 8, 0, 255]))
    await finish(pair)
  })
}

test('16 MiB each way through the streams, byte-exact, with backpressure', { skip, timeout: 120000 }, async () => {
  const size = 16 * 1024 * 1024
  const pair = await browserPair({ browserOpts: { initiator: true } })
  await connected(pair)
  const { page, node } = pair

  // Browser → Node.
  const inbound = drain(node, size, 90000)
  const expected = require('crypto').createHash('sha256')
  for (let offset = 0; offset < size; offset += 64 * 1024) {
    const chunk = Buffer.alloc(64 * 1024)
    for (let i = 0; i < chunk.length; i++) chunk[i] = (offset + i) & 0xff
    expected.update(chunk)
  }
  await page.evaluate(n => window.browserPeer.streamOut(n), size)
  assert.equal((await inbound).digest, expected.digest('hex'))

  // Node → browser.
  // The page's counter must be listening before the first byte leaves Node.
  await page.evaluate(n => { window.streamInDone = window.browserPeer.streamIn(n) }, size)
  const received = page.evaluate(() => window.streamInDone)
  let offset = 0
  let sawBackpressure = false
  await withTimeout(new Promise(resolve => {
    const writeMore = () => {
      while (offset < size) {
        const chunk = Buffer.alloc(64 * 1024)
        for (let i = 0; i < chunk.length; i++) chunk[i] = (offset + i) & 0xff
        offset += chunk.length
        if (!node.write(chunk)) {
          sawBackpressure = true
          return node.once('drain', writeMore)
        }
      }
      resolve()
    }
    writeMore()
  }), 90000, 'writing 16 MiB to the browser')
  assert.equal(await received, size)
  assert.ok(sawBackpressure, 'write() returned false at least once')
  await finish(pair)
})

test('destroy on either side closes the other within seconds', { skip, timeout: 60000 }, async () => {
  for (const side of ['node', 'browser']) {
    const pair = await browserPair({ browserOpts: { initiator: true } })
    await connected(pair)
    const started = Date.now()
    if (side === 'node') {
      const closed = waitFor(pair.browser, 'close', 10000)
      pair.node.destroy()
      await closed
    } else {
      const closed = waitFor(pair.node, 'close', 10000)
      await pair.page.evaluate(() => window.browserPeer.destroy())
      await closed
    }
    assert.ok(Date.now() - started < 5000)
    await finish(pair)
  }
})

test('negotiate() from the browser side renegotiates and the channel stays open', { skip, timeout: 60000 }, async () => {
  const pair = await browserPair({ nodeOpts: { initiator: true } })
  await connected(pair)
  const { page, node } = pair
  const negotiated = waitFor(node, 'negotiated', 20000)
  await page.evaluate(() => window.browserPeer.negotiate())
  await negotiated
  const got = waitFor(node, 'data')
  await page.evaluate(() => window.browserPeer.send('string', 'still here'))
  assert.equal((await got).toString(), 'still here')
  await finish(pair)
})

test('malformed signals relayed from the page give a coded error in Node', { skip, timeout: 60000 }, async () => {
  const cases = [
    [{ type: 'offer', sdp: 'v=0\r\ngarbage\r\n' }, 'ERR_SET_REMOTE_DESCRIPTION'],
    ['{"nonsense":true}', 'ERR_SIGNALING']
  ]
  for (const [bad, code] of cases) {
    const pair = await browserPair({ browserOpts: { initiator: true }, filterToNode: () => bad })
    assert.equal((await waitFor(pair.node, 'error', 20000)).code, code)
    await finish(pair)
  }
})
