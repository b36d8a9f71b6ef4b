'use strict'
// Raw video between two Node peers: I420 pictures in on one side, H264-encoded natively,
// decoded to I420 on the other; through writeFrame/'i420' and wrtc's RTCVideoSource/Sink.
const test = require('node:test')
const assert = require('node:assert/strict')
const { Peer, makePair, relay, waitFor, until, destroyMade } = require('./helpers')
const { quadrantPicture, quadrantError, QUADRANTS } = require('./fixtures/pictures')

const { MediaStream, MediaStreamTrack } = Peer
const { RTCVideoSource, RTCVideoSink, i420ToRgba, rgbaToI420 } = Peer.nonstandard

test.afterEach(destroyMade)

// A connected pair whose initiator sends `stream`; resolves with the remote tracks, which
// are announced during negotiation, so listened for from the start.
async function videoPair (stream, trackCount = stream.getTracks().length) {
  const { a, b } = makePair({ stream }, {})
  const remotes = []
  b.on('track', track => remotes.push(track))
  relay(a, b)
  relay(b, a)
  await Promise.all([waitFor(a, 'connect'), waitFor(b, 'connect')])
  assert.ok(await until(() => remotes.length === trackCount, 10000), `${remotes.length} remote tracks`)
  return { a, b, remotes }
}

// Writes `picture` at 30 fps for `seconds`; resolves with how many writes were taken.
async function play (write, picture, seconds) {
  let taken = 0
  const started = Date.now()
  for (let frame = 0; frame < seconds * 30; frame++) {
    if (write(picture)) taken++
    await new Promise(resolve => setTimeout(resolve, Math.max(0, started + (frame + 1) * 1000 / 30 - Date.now())))
  }
  return taken
}

test('writeFrame: I420 quadrants arrive decoded at their size, in their colours, most frames of 30 a second', async () => {
  const track = new MediaStreamTrack({ kind: 'video', codec: 'h264' })
  const { remotes: [remote] } = await videoPair(new MediaStream([track]))
  assert.equal(remote.codec, 'h264')
  const pictures = []
  remote.on('i420', picture => pictures.push(picture))
  const picture = quadrantPicture(320, 240)
  const taken = await play(p => track.writeFrame(p), picture, 2)
  await until(() => pictures.length >= taken - 2, 2000)
  assert.ok(taken >= 55, `${taken} of 60 writes taken`)
  assert.ok(pictures.length >= taken - 5, `${pictures.length} pictures decoded of ${taken} written`)
  const last = pictures[pictures.length - 1]
  assert.deepEqual([last.width, last.height, last.data.length], [320, 240, 320 * 240 * 3 / 2])
  const error = quadrantError(last)
  assert.ok(error <= 16, `colours off by up to ${error}`)
})

test('RTCVideoSource and RTCVideoSink, as wrtc shapes them; two tracks of one source, as simple-peer\'s own media tests make them', async () => {
  const source = new RTCVideoSource()
  const stream = new MediaStream([source.createTrack(), source.createTrack()])
  assert.ok(stream.getTracks().every(track => track.kind === 'video' && track.codec === 'h264'))
  const { remotes } = await videoPair(stream)
  const events = remotes.map(() => [])
  const sinks = remotes.map((remote, index) => {
    const sink = new RTCVideoSink(remote)
    sink.onframe = event => events[index].push(event)
    return sink
  })
  const listened = []
  sinks[0].addEventListener('frame', event => listened.push(event))
  const picture = quadrantPicture(160, 120)
  await play(p => source.onFrame({ width: p.width, height: p.height, data: new Uint8ClampedArray(p.data) }), picture, 1.5)
  await new Promise(resolve => setTimeout(resolve, 200))
  sinks.forEach(sink => sink.stop())
  for (const received of events) {
    assert.ok(received.length >= 30, `${received.length} frames`)
    const { type, frame } = received[received.length - 1]
    assert.equal(type, 'frame')
    assert.deepEqual([frame.width, frame.height, frame.rotation], [160, 120, 0])
    assert.ok(frame.data instanceof Uint8ClampedArray)
    assert.ok(quadrantError(frame) <= 16, `colours off by ${quadrantError(frame)}`)
  }
  assert.equal(listened.length, events[0].length, 'addEventListener sees what onframe sees')
  const counts = events.map(received => received.length)
  await new Promise(resolve => setTimeout(resolve, 100))
  assert.deepEqual(events.map(received => received.length), counts, 'stopped sinks get nothing')
})

test('a writer faster than the encoder is told: the waiting frame is replaced, nothing queues up', async () => {
  const track = new MediaStreamTrack({ kind: 'video', codec: 'h264' })
  const { remotes: [remote] } = await videoPair(new MediaStream([track]))
  const pictures = []
  remote.on('i420', picture => pictures.push(picture))
  const picture = quadrantPicture(640, 480)
  const results = []
  for (let i = 0; i < 50; i++) results.push(track.writeFrame(picture))
  assert.ok(results.filter(taken => !taken).length > 40, `${results.filter(Boolean).length} of 50 burst writes found the slot empty`)
  // Then a live pace, so the receiver's keyframe request is answered and pictures decode.
  let taken = results.filter(Boolean).length
  taken += await play(p => track.writeFrame(p), picture, 0.7)
  assert.ok(await until(() => pictures.length > 0, 5000), 'pictures decoded')
  await new Promise(resolve => setTimeout(resolve, 300))
  // Only a write that found the slot empty can be encoded: nothing queued behind the encoder.
  assert.ok(pictures.length <= taken, `${pictures.length} decoded, ${taken} writes found the slot empty`)
})

test('I420 input errors: TypeErrors with codes; an ended track takes nothing', async () => {
  const h264 = new MediaStreamTrack({ kind: 'video', codec: 'h264' })
  const vp8 = new MediaStreamTrack({ kind: 'video', codec: 'vp8' })
  const audio = new MediaStreamTrack({ kind: 'audio' })
  const source = new RTCVideoSource()
  const good = quadrantPicture(16, 16)
  const bad = [
    () => h264.writeFrame(null),
    () => h264.writeFrame({ width: 15, height: 16, data: new Uint8Array(360) }),
    () => h264.writeFrame({ width: 16, height: 16, data: new Uint8Array(100) }),
    () => h264.writeFrame({ width: 16, height: 16, data: new Int16Array(384) }),
    () => h264.writeFrame({ width: 8192, height: 2, data: new Uint8Array(8192 * 3) }),
    () => vp8.writeFrame(good),
    () => audio.writeFrame(good),
    () => source.onFrame({ width: 16, height: 16 }),
    () => new RTCVideoSink(audio),
    () => i420ToRgba(good, { width: 16, height: 16, data: new Uint8ClampedArray(10) })
  ]
  for (const call of bad) {
    assert.throws(call, err => err instanceof TypeError && err.code === 'ERR_INVALID_ARG_TYPE', String(call))
  }
  h264.stop()
  assert.equal(h264.writeFrame(good), false)
})

test('i420ToRgba and rgbaToI420 convert the quadrants\' colours both ways', () => {
  const i420 = quadrantPicture(16, 16)
  const rgba = { width: 16, height: 16, data: new Uint8ClampedArray(16 * 16 * 4) }
  i420ToRgba(i420, rgba)
  QUADRANTS.forEach(({ rgb }, index) => {
    const x = 4 + (index % 2) * 8
    const y = 4 + Math.floor(index / 2) * 8
    const at = (y * 16 + x) * 4
    const got = [...rgba.data.subarray(at, at + 3)]
    assert.ok(got.every((value, c) => Math.abs(value - rgb[c]) <= 3), `${JSON.stringify(got)} for ${rgb}`)
    assert.equal(rgba.data[at + 3], 255)
  })
  const back = { width: 16, height: 16, data: new Uint8Array(16 * 16 * 3 / 2) }
  rgbaToI420(rgba, back)
  assert.ok(quadrantError(back) <= 3, `round trip off by ${quadrantError(back)}`)
})

test('requestKeyFrame() on the receiving side makes the native encoder send a keyframe at once (RTCP PLI)', async () => {
  const track = new MediaStreamTrack({ kind: 'video', codec: 'h264' })
  const { remotes: [remote] } = await videoPair(new MediaStream([track]))
  const keyframes = []
  const started = Date.now()
  remote.on('frame', frame => { if (frame.keyframe) keyframes.push(Date.now() - started) })
  const picture = quadrantPicture(160, 120)
  let requestedAt = null
  // Keyframes come every 60 frames (2 s) by themselves; the request is made 0.6 s in.
  await play(p => {
    if (requestedAt === null && Date.now() - started > 600) {
      requestedAt = Date.now() - started
      assert.equal(remote.requestKeyFrame(), true)
    }
    return track.writeFrame(p)
  }, picture, 1.5)
  const answered = keyframes.filter(at => at > requestedAt && at < requestedAt + 500)
  assert.ok(answered.length >= 1, `keyframes at ${keyframes} ms, requested at ${requestedAt} ms`)
})

test('a JS thread that stops taking pictures loses those beyond 8, counted, instead of queueing them', async () => {
  const { Worker } = require('worker_threads')
  const sender = new Worker(require('path').join(__dirname, 'fixtures', 'video-sender.js'))
  const b = new Peer({ config: { iceServers: [] } })
  b.on('signal', signal => sender.postMessage({ signal }))
  sender.on('message', message => b.signal(message.signal))
  const [remote] = await waitFor(b, 'track')
  const arrivals = []
  remote.on('i420', () => arrivals.push(Date.now()))
  assert.ok(await until(() => arrivals.length >= 10, 10000), `${arrivals.length} pictures`)
  // The JS thread is busy for 1.5 s: ~45 pictures are decoded meanwhile.
  const busyUntil = Date.now() + 1500
  while (Date.now() < busyUntil) Math.sqrt(Math.random()) // a synchronous workload: nothing else runs
  const resumed = Date.now()
  await new Promise(resolve => setTimeout(resolve, 500))
  const burst = arrivals.filter(at => at >= resumed && at < resumed + 30).length
  assert.ok(burst <= 9, `${burst} pictures delivered at once after the pause`)
  assert.ok(remote.decodedDropped >= 25, `${remote.decodedDropped} dropped`)
  assert.ok(arrivals.filter(at => at >= resumed + 100).length >= 8, 'pictures flow again')
  sender.postMessage({ stop: true })
  await new Promise(resolve => sender.once('exit', resolve))
  b.destroy()
})
