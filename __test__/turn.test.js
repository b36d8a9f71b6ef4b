'use strict'
// Through a TURN relay: coturn inside the test namespace (fixtures/turn-server.js).
const test = require('node:test')
const assert = require('node:assert')
const crypto = require('crypto')
const { makePair, relay, connectedPair, waitFor, until, drain, randomChunks, destroyAll, destroyMade } = require('./helpers')
const { startTurnServer, turnServerMissing, TURN_ADDRESS } = require('./fixtures/turn-server')
const { iptablesMissing, addRule } = require('./fixtures/iptables')

test.afterEach(destroyMade)

function stats (peer) {
  return new Promise((resolve, reject) => peer.getStats((err, reports) => err ? reject(err) : resolve(reports)))
}

// A relay-only peer whose TURN server refused it, or could not be reached, fails at once with
// ICE's code and a message naming the URL and why.
async function expectRefusal (peer, url, why) {
  const started = Date.now()
  const err = await waitFor(peer, 'error', 30000)
  const took = Date.now() - started
  assert.strictEqual(err.code, 'ERR_ICE_CONNECTION_FAILURE')
  assert.ok(err.message.includes(url), err.message)
  assert.match(err.message, why)
  assert.ok(took < 2000, `refused after ${took} ms`)
}

async function selectedCandidates (peer) {
  const reports = await stats(peer)
  const byId = new Map(reports.map(report => [report.id, report]))
  const transport = reports.find(report => report.type === 'transport')
  const pair = byId.get(transport.selectedCandidatePairId)
  return { local: byId.get(pair.localCandidateId), remote: byId.get(pair.remoteCandidateId) }
}

test('relay only on both sides: data flows and both selected pairs are relayed, over UDP', { skip: turnServerMissing }, async () => {
  const turn = await startTurnServer()
  try {
    const config = { iceServers: [turn.iceServer], iceTransportPolicy: 'relay' }
    const { a, b } = makePair({ config }, { config })
    relay(a, b)
    relay(b, a)
    await Promise.all([waitFor(a, 'connect', 30000), waitFor(b, 'connect', 30000)])
    a.send('through the relay')
    assert.strictEqual(String(await waitFor(b, 'data')), 'through the relay')
    b.send(Buffer.from([1, 2, 3]))
    assert.deepStrictEqual([...await waitFor(a, 'data')], [1, 2, 3])
    for (const peer of [a, b]) {
      const { local, remote } = await selectedCandidates(peer)
      assert.strictEqual(local.candidateType, 'relay')
      assert.strictEqual(local.address, TURN_ADDRESS)
      assert.strictEqual(local.relayProtocol, 'udp')
      assert.strictEqual(remote.relayProtocol, undefined)
      assert.ok(Number.isInteger(local.priority) && local.priority > 0xffff, `full priority, got ${local.priority}`)
    }
    assert.match(turn.log(), /ALLOCATE/, 'coturn saw the allocations')
    await destroyAll(a, b)
  } finally {
    await turn.stop()
  }
})

// webrtc 0.21 sent what the core wrote toward a relay only on the driver's next wake-up, and
// handed the core what came through it the same way: a connect took ~4 s, a transfer crawled
// at a few hundred KB/s, and a destroy never got through before the allocation was released
// (vendor/PATCHES.md).
test('through the relay: connects in well under a second, 8 MiB byte-exact, and a destroy reaches the remote at once', { skip: turnServerMissing, timeout: 60000 }, async () => {
  const turn = await startTurnServer()
  try {
    const config = { iceServers: [turn.iceServer], iceTransportPolicy: 'relay' }
    const connectStarted = Date.now()
    const { a, b } = await connectedPair({ config }, { config })
    const connectMs = Date.now() - connectStarted
    const size = 8 * 1024 * 1024
    const sent = crypto.createHash('sha256')
    const got = crypto.createHash('sha256')
    let received = 0
    const done = new Promise(resolve => b.on('data', chunk => {
      got.update(chunk)
      received += chunk.length
      if (received >= size) resolve()
    }))
    const started = Date.now()
    for (let written = 0; written < size; written += 16384) {
      const chunk = crypto.randomBytes(16384)
      sent.update(chunk)
      if (!a.write(chunk)) await waitFor(a, 'drain')
    }
    await done
    const transferMs = Date.now() - started
    assert.equal(got.digest('hex'), sent.digest('hex'), 'byte-exact')
    const closed = waitFor(b, 'close', 10000)
    const destroyedAt = Date.now()
    a.destroy()
    await closed
    const closeMs = Date.now() - destroyedAt
    console.log(`# relay: connect ${connectMs} ms, 8 MiB in ${transferMs} ms, remote closed ${closeMs} ms after destroy()`)
    assert.ok(connectMs < 1000, `connected after ${connectMs} ms`)
    assert.ok(transferMs < 20000, `8 MiB took ${transferMs} ms`)
    assert.ok(closeMs < 1000, `the remote closed ${closeMs} ms after destroy()`)
  } finally {
    await turn.stop()
  }
})

test('one side relay-only, the other on its host candidates: connects through the relay', { skip: turnServerMissing, timeout: 60000 }, async () => {
  const turn = await startTurnServer()
  try {
    const { a, b } = await connectedPair({ config: { iceServers: [turn.iceServer], iceTransportPolicy: 'relay' } }, {})
    b.send('to the relayed side')
    assert.strictEqual(String(await waitFor(a, 'data')), 'to the relayed side')
    const relayed = (await selectedCandidates(a)).local
    assert.strictEqual(relayed.candidateType, 'relay')
    // The host side may meet the relayed address in a check before its candidate is signalled;
    // ICE then names it peer-reflexive (RFC 8445 7.3.1.3), so what must hold is the address.
    const seen = (await selectedCandidates(b)).remote
    assert.ok(['relay', 'prflx'].includes(seen.candidateType), seen.candidateType)
    assert.deepStrictEqual([seen.address, seen.port], [relayed.address, relayed.port])
    await destroyAll(a, b)
  } finally {
    await turn.stop()
  }
})

test('the relay disappears mid-connection: ERR_ICE_CONNECTION_FAILURE within the consent timing', { skip: turnServerMissing, timeout: 60000 }, async () => {
  const turn = await startTurnServer()
  let stopped = false
  try {
    const config = { iceServers: [turn.iceServer], iceTransportPolicy: 'relay' }
    const { a, b } = await connectedPair({ config }, { config })
    const errors = [a, b].map(peer => waitFor(peer, 'error', 30000))
    const gone = Date.now()
    await turn.stop()
    stopped = true
    const codes = (await Promise.all(errors)).map(err => err.code)
    const took = Date.now() - gone
    console.log(`# relay gone: both peers failed after ${took} ms`)
    assert.deepStrictEqual(codes, ['ERR_ICE_CONNECTION_FAILURE', 'ERR_ICE_CONNECTION_FAILURE'])
    assert.ok(took < 20000, `failed after ${took} ms`)
  } finally {
    if (!stopped) await turn.stop()
  }
})

// webrtc 0.21 logged the server's 401 and the peer failed ~15 s later through ICE, with a
// message that said nothing about TURN.
test('a wrong TURN credential gives a coded error naming the server and its 401 at once', { skip: turnServerMissing, timeout: 60000 }, async () => {
  const turn = await startTurnServer()
  try {
    const config = { iceServers: [Object.assign({}, turn.iceServer, { credential: 'not-the-secret' })], iceTransportPolicy: 'relay' }
    const { a, b } = makePair({ config }, { config })
    relay(a, b)
    relay(b, a)
    // Both are refused, in either order: each needs its own listener.
    await Promise.all([expectRefusal(a, turn.url, /401/), expectRefusal(b, turn.url, /401/)])
    await destroyAll(a, b)
  } finally {
    await turn.stop()
  }
})

// TURN over TCP is what a visitor behind a firewall that blocks UDP is left with. webrtc 0.21
// skipped every `?transport=tcp` URL, so no candidate was gathered (vendor/PATCHES.md). Here UDP
// to the server is dropped, so only the TCP leg can carry the allocation.
test('TURN over TCP with UDP to the server blocked: relay-only peers connect, 8 MiB byte-exact, and a destroy reaches the remote at once', { skip: turnServerMissing || iptablesMissing, timeout: 60000 }, async () => {
  const turn = await startTurnServer()
  const unblock = addRule('INPUT', ['-p', 'udp', '-d', TURN_ADDRESS, '--dport', String(turn.port), '-j', 'DROP'])
  try {
    const config = { iceServers: [turn.tcpIceServer], iceTransportPolicy: 'relay' }
    const connectStarted = Date.now()
    const { a, b } = await connectedPair({ config }, { config })
    const connectMs = Date.now() - connectStarted
    for (const peer of [a, b]) {
      const { local } = await selectedCandidates(peer)
      assert.strictEqual(local.candidateType, 'relay')
      assert.strictEqual(local.address, TURN_ADDRESS)
      assert.strictEqual(local.relayProtocol, 'tcp')
      assert.strictEqual(local.url, turn.tcpUrl)
    }
    const size = 8 * 1024 * 1024
    const { chunks, digest } = randomChunks(size, 16384)
    const received = drain(b, size)
    const started = Date.now()
    for (const chunk of chunks) {
      if (!a.write(chunk)) await waitFor(a, 'drain')
    }
    const got = await received
    const transferMs = Date.now() - started
    assert.deepStrictEqual(got, { received: size, digest }, 'byte-exact')
    const closed = waitFor(b, 'close', 10000)
    const destroyedAt = Date.now()
    a.destroy()
    await closed
    const closeMs = Date.now() - destroyedAt
    console.log(`# relay over TCP: connect ${connectMs} ms, 8 MiB in ${transferMs} ms, remote closed ${closeMs} ms after destroy()`)
    assert.ok(connectMs < 2000, `connected after ${connectMs} ms`)
    assert.ok(closeMs < 1000, `the remote closed ${closeMs} ms after destroy()`)
  } finally {
    unblock()
    await turn.stop()
  }
})

// Both relays are gathered and either may carry the connection; the one over UDP is ranked
// above the one over TCP, as libwebrtc ranks them.
test('TURN over TCP beside TURN over UDP: both gathered, the UDP relay ranked above, data flows', { skip: turnServerMissing, timeout: 60000 }, async () => {
  const turn = await startTurnServer()
  try {
    const config = { iceServers: [turn.tcpIceServer, turn.iceServer], iceTransportPolicy: 'relay' }
    const { a, b } = makePair({ config }, { config })
    const gathered = []
    a.on('signal', data => { if (data.candidate) gathered.push(data.candidate.candidate) })
    relay(a, b)
    relay(b, a)
    await Promise.all([waitFor(a, 'connect', 30000), waitFor(b, 'connect', 30000)])
    await until(() => gathered.length >= 2, 5000)
    assert.strictEqual(gathered.filter(line => / typ relay /.test(line)).length, 2, gathered.join('\n'))
    const locals = (await stats(a)).filter(report => report.type === 'local-candidate')
    const priority = protocol => locals.find(report => report.relayProtocol === protocol).priority
    assert.ok(priority('udp') > priority('tcp'), `udp ${priority('udp')}, tcp ${priority('tcp')}`)
    a.send('over either relay')
    assert.strictEqual(String(await waitFor(b, 'data')), 'over either relay')
    await destroyAll(a, b)
  } finally {
    await turn.stop()
  }
})

test('TURN over TCP with a wrong credential, or to a port where nothing listens: a coded error naming the URL at once', { skip: turnServerMissing, timeout: 60000 }, async () => {
  const turn = await startTurnServer()
  try {
    const wrong = { iceServers: [Object.assign({}, turn.tcpIceServer, { credential: 'not-the-secret' })], iceTransportPolicy: 'relay' }
    await expectRefusal(makePair({ config: wrong }).a, turn.tcpUrl, /401/)

    const nowhere = `turn:${TURN_ADDRESS}:${turn.port + 1}?transport=tcp`
    const unreachable = { iceServers: [{ urls: nowhere, username: 'u', credential: 'c' }], iceTransportPolicy: 'relay' }
    await expectRefusal(makePair({ config: unreachable }).a, nowhere, /TCP connection/)
  } finally {
    await turn.stop()
  }
})

// TURN over TLS has no client in webrtc 0.21. A relay-only peer left with no usable TURN URL
// says so at once instead of failing ICE 15 s later.
test('relay-only with only a turns: URL: a coded error naming the URL, at once', { timeout: 30000 }, async () => {
  const url = `turns:${TURN_ADDRESS}:5349?transport=tcp`
  const config = { iceServers: [{ urls: url, username: 'u', credential: 'c' }], iceTransportPolicy: 'relay' }
  const { a } = makePair({ config })
  const err = await waitFor(a, 'error', 5000)
  assert.strictEqual(err.code, 'ERR_ICE_CONNECTION_FAILURE')
  assert.ok(err.message.includes(url), err.message)
  assert.match(err.message, /turns:/)
})
