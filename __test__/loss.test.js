'use strict'
// Loss on the path: iptables, inside the test namespace, drops every 50th datagram toward
// the receiver (this kernel has no netem). SCTP must recover each loss by fast retransmit on
// the receiver's gap reports, not by its retransmission timer (a second or more): the
// receiver's timeline of arrivals may show no pause longer than half a second.
const test = require('node:test')
const assert = require('node:assert')
const crypto = require('crypto')
const path = require('path')
const readline = require('readline')
const { spawn } = require('child_process')
const { iptablesMissing, addRule } = require('./fixtures/iptables')
const { Peer, LOCAL, track, makePair, relay, waitFor, destroyAll, destroyMade, randomChunks } = require('./helpers')

test.afterEach(destroyMade)

const MIB = 1024 * 1024
const TOTAL = 8 * MIB
const MAX_PAUSE_MS = 500

// Drops every 50th UDP datagram to `port` until the returned function is called.
function dropEvery50th (port) {
  return addRule('INPUT', ['-p', 'udp', '--dport', String(port), '-m', 'statistic', '--mode', 'nth', '--every', '50', '--packet', '0', '-j', 'DROP'])
}

function longestPause (timeline) {
  let longest = 0
  for (let i = 1; i < timeline.length; i++) longest = Math.max(longest, timeline[i][0] - timeline[i - 1][0])
  return longest
}

// Writes `total` random bytes with backpressure; resolves with their SHA-256.
function writeAll (peer, total) {
  const { chunks, digest } = randomChunks(total, 16 * 1024)
  let next = 0
  return new Promise((resolve, reject) => {
    peer.once('error', reject)
    const write = () => {
      while (next < chunks.length) {
        if (!peer.write(chunks[next++])) return peer.once('drain', write)
      }
      resolve(digest)
    }
    write()
  })
}

test('8 MiB to libwebrtc (simple-peer + wrtc) with every 50th datagram to it dropped: no pause over 500 ms', { skip: iptablesMissing }, async () => {
  const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'stack-peer.js'), 'wrtc', '--expect', String(TOTAL)], { stdio: ['pipe', 'pipe', 'inherit'] })
  const messages = readline.createInterface({ input: child.stdout })
  const a = track(new Peer({ initiator: true, config: LOCAL }))
  a.on('signal', data => child.stdin.write(JSON.stringify({ signal: data }) + '\n'))
  let connected, result
  const remoteConnected = new Promise(resolve => { connected = resolve })
  const remoteResult = new Promise(resolve => { result = resolve })
  messages.on('line', line => {
    const message = JSON.parse(line)
    if (message.signal) a.signal(message.signal)
    if (message.connected) connected(message.connected)
    if (message.received) result(message)
  })
  let restore = () => {}
  try {
    const [{ port }] = await Promise.all([remoteConnected, waitFor(a, 'connect')])
    restore = dropEvery50th(port)
    const sha256 = await writeAll(a, TOTAL)
    const received = await remoteResult
    restore()
    assert.strictEqual(received.received, TOTAL)
    assert.strictEqual(received.sha256, sha256, 'byte-exact')
    const pause = longestPause(received.timeline)
    assert.ok(pause <= MAX_PAUSE_MS, `a ${pause} ms pause in the arrivals`)
  } finally {
    restore()
    child.stdin.end(JSON.stringify({ exit: true }) + '\n')
    await new Promise(resolve => child.once('exit', resolve))
    await destroyAll(a)
  }
})

test('8 MiB between two of our peers with every 50th datagram to the receiver dropped: no pause over 500 ms', { skip: iptablesMissing }, async () => {
  const { a, b } = makePair()
  relay(a, b)
  relay(b, a)
  await Promise.all([waitFor(a, 'connect'), waitFor(b, 'connect')])
  const restore = dropEvery50th(b.localPort)
  try {
    const timeline = []
    const hash = crypto.createHash('sha256')
    let received = 0
    const done = new Promise(resolve => b.on('data', data => {
      timeline.push([performance.now(), data.length])
      hash.update(data)
      received += data.length
      if (received === TOTAL) resolve()
    }))
    const sha256 = await writeAll(a, TOTAL)
    await done
    assert.strictEqual(hash.digest('hex'), sha256, 'byte-exact')
    const pause = longestPause(timeline)
    assert.ok(pause <= MAX_PAUSE_MS, `a ${Math.round(pause)} ms pause in the arrivals`)
  } finally {
    restore()
    await destroyAll(a, b)
  }
})

// Nothing at all gets through for 3 s (a Wi-Fi hiccup), well before ICE gives up: the
// connection carries on and a reliable transfer completes byte-exact, with no error.
test('a 3 s outage in the middle of a transfer loses nothing and fails nothing', { skip: iptablesMissing }, async () => {
  const { a, b } = makePair()
  relay(a, b)
  relay(b, a)
  await Promise.all([waitFor(a, 'connect'), waitFor(b, 'connect')])
  const errors = []
  const states = []
  for (const peer of [a, b]) {
    peer.on('error', err => errors.push(err.code))
    peer.on('iceStateChange', state => states.push(state))
  }
  const hash = crypto.createHash('sha256')
  let received = 0
  const done = new Promise(resolve => b.on('data', data => {
    hash.update(data)
    received += data.length
    if (received === TOTAL) resolve()
  }))
  let unblock = null
  const outage = new Promise(resolve => {
    b.once('data', () => {
      unblock = addRule('INPUT', ['-p', 'udp', '-m', 'multiport', '--dports', `${a.localPort},${b.localPort}`, '-j', 'DROP'])
      setTimeout(() => {
        unblock()
        resolve()
      }, 3000)
    })
  })
  try {
    const sha256 = await writeAll(a, TOTAL)
    await outage
    await done
    assert.strictEqual(hash.digest('hex'), sha256, 'byte-exact')
    assert.deepStrictEqual(errors, [])
    assert.ok(!states.includes('failed'), states.join(' '))
    assert.ok(a.connected && b.connected)
  } finally {
    if (unblock) unblock()
    await destroyAll(a, b)
  }
})
