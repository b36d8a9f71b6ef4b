'use strict'
// Through a TURN relay: coturn inside the test namespace (fixtures/turn-server.js).
const test = require('node:test')
const assert = require('node:assert')
const crypto = require('crypto')
const { makePair, relay, connectedPair, waitFor, destroyAll, destroyMade } = require('./helpers')
const { startTurnServer, turnServerMissing, TURN_ADDRESS } = require('./fixtures/turn-server')

test.afterEach(destroyMade)

function stats (peer) {
  return new Promise((resolve, reject) => peer.getStats((err, reports) => err ? reject(err) : resolve(reports)))
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
    assert.strictEqual((await selectedCandidates(a)).local.candidateType, 'relay')
    assert.strictEqual((await selectedCandidates(b)).remote.candidateType, 'relay')
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
    const started = Date.now()
    const err = await waitFor(a, 'error', 30000)
    const took = Date.now() - started
    assert.strictEqual(err.code, 'ERR_ICE_CONNECTION_FAILURE')
    assert.ok(err.message.includes(turn.url), err.message)
    assert.match(err.message, /401/)
    assert.ok(took < 2000, `refused after ${took} ms`)
    await destroyAll(a, b)
  } finally {
    await turn.stop()
  }
})

// Not supported yet: webrtc 0.21 skips TURN over TCP and TLS. A relay-only peer left with no
// usable TURN URL says so at once instead of failing ICE 15 s later.
test('relay-only with only a TURN-over-TCP URL: a coded error naming the URL, at once', { skip: turnServerMissing, timeout: 30000 }, async () => {
  const config = { iceServers: [{ urls: 'turn:10.77.0.1:3478?transport=tcp', username: 'u', credential: 'c' }], iceTransportPolicy: 'relay' }
  const { a } = makePair({ config })
  const err = await waitFor(a, 'error', 5000)
  assert.strictEqual(err.code, 'ERR_ICE_CONNECTION_FAILURE')
  assert.match(err.message, /transport=tcp/)
})
