'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('crypto')
const { Peer, LOCAL, waitFor, until, relay, makePair, connectedPair, destroyAll, destroyMade } = require('./helpers')

test.afterEach(destroyMade)

test('calls after destroy() throw ERR_DESTROYED; writes fail with ERR_DATA_CHANNEL', async () => {
  const { a, b } = await connectedPair()
  await destroyAll(a, b)
  assert.throws(() => a.signal({ type: 'renegotiate', renegotiate: true }), { code: 'ERR_DESTROYED' })
  assert.throws(() => a.send('x'), { code: 'ERR_DESTROYED' })
  assert.throws(() => a.negotiate(), { code: 'ERR_DESTROYED' })
  const err = await new Promise(resolve => a._write(Buffer.from('x'), 'buffer', resolve))
  assert.equal(err.code, 'ERR_DATA_CHANNEL')
  assert.equal(a.bufferSize, 0)
  assert.equal(a.connected, false)
  const statsErr = await new Promise(resolve => a.getStats(resolve))
  assert.equal(statsErr.code, 'ERR_DESTROYED')
})

test('calls while destroying are ignored, as in simple-peer', async () => {
  const peer = new Peer({ initiator: true, config: LOCAL })
  peer.destroy()
  assert.equal(peer.destroying, true)
  assert.equal(peer.send('x'), undefined)
  assert.equal(peer.signal({}), undefined)
  await waitFor(peer, 'close')
})

async function expectError (peer, action, code) {
  const error = waitFor(peer, 'error', 5000)
  const closed = waitFor(peer, 'close', 5000)
  action()
  assert.equal((await error).code, code)
  await closed
}

test('invalid signal data gives ERR_SIGNALING', async () => {
  for (const bad of ['not json', '{}', {}, 42, [], { type: 'offer' }, { foo: 'bar' }, true]) {
    const peer = new Peer({ config: LOCAL })
    await expectError(peer, () => peer.signal(bad), 'ERR_SIGNALING')
  }
})

test('signal(null), signal(undefined) and signal("null") throw a TypeError, as in simple-peer', async () => {
  const peer = new Peer({ config: LOCAL })
  for (const bad of [null, undefined, 'null']) {
    assert.throws(() => peer.signal(bad), TypeError)
  }
  assert.equal(peer.destroyed, false)
  await destroyAll(peer)
})

test('a malformed description gives ERR_SET_REMOTE_DESCRIPTION', async () => {
  const cases = [
    { type: 'offer', sdp: 'garbage' },
    { type: 'answer', sdp: 'v=0\r\n' }, // an answer with no offer
    { type: 'bogus', sdp: 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n' },
    { type: 'offer', sdp: 'v=0\r\n' + 'a=x\r\n'.repeat(60000) } // 360 KB
  ]
  for (const bad of cases) {
    const peer = new Peer({ config: LOCAL })
    await expectError(peer, () => peer.signal(bad), 'ERR_SET_REMOTE_DESCRIPTION')
  }
})

test('candidates queued ahead of a malformed description give one error, its own', async () => {
  const peer = new Peer({ config: LOCAL })
  const codes = []
  peer.on('error', err => codes.push(err.code))
  const closed = waitFor(peer, 'close', 5000)
  const candidate = { candidate: 'candidate:1 1 udp 2130706431 10.77.0.9 40000 typ host', sdpMid: '0', sdpMLineIndex: 0 }
  peer.signal({ type: 'candidate', candidate })
  peer.signal({ type: 'offer', sdp: 'garbage' })
  peer.signal({ type: 'candidate', candidate }) // sent while the description is pending
  await closed
  await new Promise(resolve => setTimeout(resolve, 100)) // any late reply would land by now
  assert.deepEqual(codes, ['ERR_SET_REMOTE_DESCRIPTION'])
})

test('a malformed candidate gives ERR_ADD_ICE_CANDIDATE; .local and end-of-candidates are tolerated', async () => {
  const { a, b } = makePair()
  relay(a, b)
  relay(b, a)
  await Promise.all([waitFor(a, 'connect'), waitFor(b, 'connect')])
  const warnings = []
  const warn = console.warn
  console.warn = message => warnings.push(message)
  try {
    b.signal({ type: 'candidate', candidate: { candidate: '', sdpMid: '0', sdpMLineIndex: 0 } })
    b.signal({ type: 'candidate', candidate: null })
    b.signal('{"type":"candidate","candidate":null}')
    b.signal({ type: 'candidate', candidate: { candidate: 'candidate:1 1 udp 2122260223 0a1b2c3d-aaaa-bbbb.local 54321 typ host', sdpMid: '0', sdpMLineIndex: 0 } })
    await new Promise(resolve => setTimeout(resolve, 300))
    assert.equal(b.destroyed, false)
    assert.equal(b.connected, true)
  } finally {
    console.warn = warn
  }
  const remoteClosed = waitFor(a, 'close')
  await expectError(b, () => b.signal({ type: 'candidate', candidate: { candidate: 'candidate:1 1 udp 1 10.77.0.1 notaport typ host', sdpMid: '0', sdpMLineIndex: 0 } }), 'ERR_ADD_ICE_CANDIDATE')
  await remoteClosed
})

test('ICE failure gives ERR_ICE_CONNECTION_FAILURE', async () => {
  // Candidates rewritten to an address nobody holds: checks go out and nothing answers.
  const unreachable = data => JSON.parse(JSON.stringify(data).replace(/10\.77\.0\.1/g, '10.77.0.99'))
  const native = { iceDisconnectedTimeout: 500, iceFailedTimeout: 1000, iceKeepaliveInterval: 200 }
  const { a, b } = makePair({ native }, { native })
  relay(a, b, unreachable)
  relay(b, a, unreachable)
  const errors = [waitFor(a, 'error', 20000), waitFor(b, 'error', 20000)]
  const codes = (await Promise.all(errors)).map(err => err.code)
  assert.deepEqual(codes, ['ERR_ICE_CONNECTION_FAILURE', 'ERR_ICE_CONNECTION_FAILURE'])
})

test('invalid ICE server configuration gives ERR_PC_CONSTRUCTOR', async () => {
  for (const config of [{ iceServers: 'stun:example.invalid' }, { iceServers: [{ urls: 5 }] }, { iceServers: [{ urls: 'not a url' }] }, { iceServers: [], iceTransportPolicy: 'sideways' }]) {
    const peer = new Peer({ config })
    await expectError(peer, () => {}, 'ERR_PC_CONSTRUCTOR')
  }
})

// Random but reproducible: the seed is printed on failure through the assertion message.
function fuzzCases (count, seed) {
  let state = crypto.createHash('sha256').update(seed).digest()
  const random = () => {
    state = crypto.createHash('sha256').update(state).digest()
    return state.readUInt32BE(0) / 0x100000000
  }
  const pick = list => list[Math.floor(random() * list.length)]
  const bytes = n => crypto.createHash('sha256').update(String(random())).digest().subarray(0, n)
  const sdpLines = ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0',
    'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'c=IN IP4 0.0.0.0', 'a=ice-ufrag:abcd',
    'a=ice-pwd:aaaaaaaaaaaaaaaaaaaaaaaa', 'a=fingerprint:sha-256 00:11', 'a=setup:actpass',
    'a=mid:0', 'a=sctp-port:5000', 'a=candidate:1 1 udp 1 10.77.0.1 9 typ host', 'm=audio 0 RTP/AVP 0']
  const generators = [
    () => bytes(1 + Math.floor(random() * 30)).toString('latin1'),
    () => JSON.stringify({ type: pick(['offer', 'answer', 'pranswer', 'rollback', 'x']), sdp: bytes(20).toString('base64') }),
    () => ({ type: pick(['offer', 'answer']), sdp: Array.from({ length: 1 + Math.floor(random() * 12) }, () => pick(sdpLines)).join('\r\n') + '\r\n' }),
    () => ({ type: 'candidate', candidate: { candidate: 'candidate:' + bytes(8).toString('hex') + ' 1 udp ' + Math.floor(random() * 1e9) + ' ' + pick(['10.77.0.1', '::1', 'x.local', '999.1.1.1', '']) + ' ' + Math.floor(random() * 70000) + ' typ ' + pick(['host', 'srflx', 'relay', 'bogus']), sdpMid: pick(['0', null, 5]), sdpMLineIndex: pick([0, null, -1, 'a']) } }),
    () => ({ candidate: pick([{}, [], 'candidate:1', 7, { candidate: 7 }]) }),
    () => ({ renegotiate: pick([false, 0, '']), transceiverRequest: pick([null, 0]) }),
    () => pick([0, -1, 1e308, NaN, true, false, [], [1, 2], '', '""', '[]', '{"sdp":null}']),
    () => ({ sdp: pick([{}, [], 5, true]), type: pick([{}, null, 5]) })
  ]
  return Array.from({ length: count }, () => pick(generators)())
}

test('1,200 malformed signals: each gives a coded error or a TypeError, never a crash or hang', async () => {
  const seed = process.env.FUZZ_SEED || 'simple-peer-native'
  const cases = fuzzCases(1200, seed)
  const codes = new Map()
  const peers = []
  let peer = null
  for (const [index, input] of cases.entries()) {
    if (!peer || peer.destroyed || peer.destroying) {
      peer = new Peer({ config: LOCAL })
      peer.on('error', err => {
        assert.match(err.code, /^ERR_[A-Z_]+$/, `case ${index} (seed ${seed}): uncoded error ${err.message}`)
        codes.set(err.code, (codes.get(err.code) || 0) + 1)
      })
      peers.push(peer)
    }
    try {
      peer.signal(input)
    } catch (err) {
      assert.ok(err instanceof TypeError, `case ${index} (seed ${seed}) threw ${err}`)
    }
    // Let native replies land so errors attach to the case that caused them.
    if (index % 25 === 0) await new Promise(resolve => setTimeout(resolve, 5))
  }
  await new Promise(resolve => setTimeout(resolve, 500))
  assert.ok(codes.size >= 2, `several error kinds seen: ${[...codes.keys()]}`)
  await destroyAll(...peers)
  // The process is still healthy: a fresh pair connects.
  const { a, b } = await connectedPair()
  await destroyAll(a, b)
})

test('1,000 random send() arguments: TypeError or delivery, both peers stay up', async () => {
  const { a, b } = await connectedPair()
  let delivered = 0
  b.on('data', () => delivered++)
  const values = [1, 0, -0, NaN, {}, [], null, undefined, true, Symbol('s'), () => {}, new Map(), new Date(), 10n,
    'ok', Buffer.from('ok'), new Uint8Array(3), new ArrayBuffer(2), new DataView(new ArrayBuffer(1)), new Int32Array(2)]
  let sent = 0
  for (let i = 0; i < 1000; i++) {
    const value = values[i % values.length]
    try {
      a.send(value)
      sent++
    } catch (err) {
      assert.ok(err instanceof TypeError && err.code === 'ERR_INVALID_ARG_TYPE', String(err))
    }
  }
  assert.equal(sent, 300)
  await until(() => delivered >= sent)
  assert.equal(delivered, sent)
  assert.equal(a.connected && b.connected, true)
  await destroyAll(a, b)
})
