'use strict'
// The bridge's routing: replies to the request of their id, every other event to the Peer's
// method for it. Events are built in the generated NativeEvent shapes (binding.d.ts); the
// bridge runs without a native peer behind it, so nothing here opens a socket.
const test = require('node:test')
const assert = require('node:assert')
const { NativeBridge } = require('../../lib/native')

function bridgeRecording () {
  const calls = []
  const listener = new Proxy({}, {
    get: (_, method) => (...args) => { calls.push([method, ...args]) }
  })
  const bridge = Object.create(NativeBridge.prototype)
  bridge._listener = listener
  bridge._requests = new Map()
  return { bridge, calls }
}

test('replies settle the request of their id, in any order', async () => {
  const { bridge } = bridgeRecording()
  const first = bridge._request(1)
  const second = bridge._request(2)
  bridge._dispatch({ type: 'reply', id: 2, value: { kind: 'selectedPair' } })
  bridge._dispatch({ type: 'failed', id: 1, code: 'ERR_CREATE_OFFER', message: 'no' })
  bridge._dispatch({ type: 'reply', id: 99, value: { kind: 'done' } }) // no such request: ignored
  assert.deepStrictEqual(await second, { kind: 'selectedPair' })
  await assert.rejects(first, { code: 'ERR_CREATE_OFFER', message: 'no' })
  assert.strictEqual(bridge._requests.size, 0)
})

test('a reply of the wrong kind is an internal error, not a wrong value', async () => {
  const { bridge } = bridgeRecording()
  const done = bridge._done(3)
  bridge._dispatch({ type: 'reply', id: 3, value: { kind: 'stats', reports: [] } })
  await assert.rejects(done, { code: 'ERR_INTERNAL' })
})

test('other events reach the Peer\'s methods with their fields', () => {
  const { bridge, calls } = bridgeRecording()
  const candidate = { candidate: 'candidate:1 1 udp 1 10.0.0.1 9 typ host', sdpMLineIndex: 0, sdpMid: '0' }
  const pieces = [Buffer.from('hi')]
  const sizes = Uint32Array.of(5)
  const frame = { data: Buffer.from([1]), timestamp: 90, keyframe: true }
  const track = { trackId: 't', streamIds: ['s'], kind: 'video', codec: 'vp8', ssrc: 7 }
  for (const event of [
    { type: 'candidate', candidate },
    { type: 'iceConnectionState', state: 'checking' },
    { type: 'signalingState', state: 'stable' },
    { type: 'channelOpen', label: 'x' },
    { type: 'messages', pieces, sizes },
    { type: 'writable' },
    { type: 'track', id: 4, track },
    { type: 'frame', id: 4, frame },
    { type: 'trackEnded', id: 4 },
    { type: 'channelClose' }
  ]) bridge._dispatch(event)
  assert.deepStrictEqual(calls, [
    ['_onNativeCandidate', candidate],
    ['_onNativeState', 'iceConnectionState', 'checking'],
    ['_onNativeState', 'signalingState', 'stable'],
    ['_onChannelOpen', 'x', null],
    ['_onMessages', pieces, sizes],
    ['_onChannelBufferedAmountLow'],
    ['_onTrack', 4, track],
    ['_onRemoteMedia', 4, 'frame', frame],
    ['_onRemoteTrackEnded', 4],
    ['_onChannelClose']
  ])
})

test('a native error reaches the Peer as a coded Error', () => {
  const { bridge, calls } = bridgeRecording()
  bridge._dispatch({ type: 'error', code: 'ERR_DATA_CHANNEL', message: 'refused' })
  const [[method, err]] = calls
  assert.strictEqual(method, '_onNativeError')
  assert.ok(err instanceof Error)
  assert.deepStrictEqual([err.code, err.message], ['ERR_DATA_CHANNEL', 'refused'])
})

test('the closed event drops requests still due and tells the Peer', () => {
  const { bridge, calls } = bridgeRecording()
  bridge._request(5)
  bridge._dispatch({ type: 'closed' })
  assert.strictEqual(bridge._requests.size, 0)
  assert.deepStrictEqual(calls, [['_onNativeClosed']])
  assert.throws(() => bridge._dispatch({ type: 'bogus' }), { code: 'ERR_INTERNAL' })
})
