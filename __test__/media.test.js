'use strict'
// Media between two Node peers: encoded samples and RTP out, packets and frames in, and
// simple-peer's media API (streams, tracks, transceivers, renegotiation) with its errors.
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('path')
const { Peer, LOCAL, relay, waitFor, withTimeout, until, destroyAll, connectedPair } = require('./helpers')

const { MediaStream, MediaStreamTrack, readMediaFile } = Peer
const FIXTURES = path.join(__dirname, 'fixtures', 'media')
const FILES = { vp8: 'vp8.ivf', vp9: 'vp9.ivf', av1: 'av1.ivf', h264: 'h264.h264', opus: 'opus.ogg' }

async function samplesOf (codec) {
  const samples = []
  for await (const sample of readMediaFile(path.join(FIXTURES, FILES[codec]), { fps: 15 })) samples.push(sample)
  return samples
}

// Writes samples a few ms apart (a live source's pace without waiting real time).
async function writeAll (track, samples, gapMs = 4) {
  for (const sample of samples) {
    track.writeSample(sample.data, { duration: sample.duration })
    await new Promise(resolve => setTimeout(resolve, gapMs))
  }
}

function collect (emitter, event, count, ms = 15000) {
  const items = []
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.removeListener(event, onItem)
      reject(new Error(`timed out after ${ms} ms waiting for ${count} '${event}' events (got ${items.length})`))
    }, ms)
    function onItem (item) {
      items.push(item)
      if (items.length < count) return
      clearTimeout(timer)
      emitter.removeListener(event, onItem)
      resolve(items)
    }
    emitter.on(event, onItem)
  })
}

// Every peer a test makes, so a failing test cannot leave live peers holding the process.
const created = []
test.afterEach(async () => {
  await destroyAll(...created.splice(0).filter(peer => !peer.destroyed))
})

function videoTrack (codec = 'vp8') {
  return new MediaStreamTrack({ kind: 'video', codec })
}

// A connected pair plus both sides' 'track'/'stream' events, recorded from the start.
async function mediaPair (optsA = {}, optsB = {}) {
  const a = new Peer(Object.assign({ initiator: true, config: LOCAL }, optsA))
  const b = new Peer(Object.assign({ config: LOCAL }, optsB))
  created.push(a, b)
  for (const peer of [a, b]) {
    peer.tracks = []
    peer.streamEvents = []
    peer.on('track', (track, stream) => {
      track.frames = [] // every frame, from the first packet on
      track.on('frame', frame => track.frames.push(frame))
      peer.tracks.push({ track, stream })
    })
    peer.on('stream', stream => peer.streamEvents.push(stream))
  }
  relay(a, b)
  relay(b, a)
  await Promise.all([waitFor(a, 'connect'), waitFor(b, 'connect')])
  return { a, b }
}

// The remote side's track for `localTrack` (same id, as the sender's msid), once its media
// flows: samples are sent one at a time until the first packet has reached it.
async function remoteTrackFor (receiver, localTrack) {
  const sample = localTrack.kind === 'audio' ? Buffer.from([0xfc, 0xff, 0xfe]) : (await samplesOf(localTrack.codec))[0].data
  const find = () => receiver.tracks.find(({ track }) => track.id === localTrack.id && track._source)
  for (let i = 0; i < 200 && !find(); i++) {
    localTrack.writeSample(sample)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  assert.ok(find(), `remote ${localTrack.kind}/${localTrack.codec} track appeared`)
  return find()
}

for (const codec of ['vp8', 'vp9', 'h264', 'av1', 'opus']) {
  test(`${codec}: a file's samples arrive as the same frames, byte-exact, after 'track' and 'stream'`, async () => {
    const kind = codec === 'opus' ? 'audio' : 'video'
    const track = new MediaStreamTrack({ kind, codec })
    const stream = new MediaStream([track])
    const { a, b } = await mediaPair({ stream })
    const samples = await samplesOf(codec)
    await writeAll(track, samples)
    assert.ok(await until(() => b.tracks.length === 1 && b.tracks[0].track.frames.length === samples.length), `${samples.length} frames arrive`)
    const remote = b.tracks[0].track
    const received = remote.frames
    assert.equal(remote.kind, kind)
    assert.equal(remote.codec, codec)
    assert.equal(remote.id, track.id, 'the track id travels in the SDP (msid)')
    assert.equal(b.streamEvents.length, 1)
    assert.equal(b.streamEvents[0].id, stream.id)
    assert.deepEqual(b.streamEvents[0].getTracks(), [remote])
    received.forEach((frame, i) => assert.ok(frame.data.equals(samples[i].data), `frame ${i} differs`))
    assert.equal(received[0].keyframe, true)
    if (kind === 'video') {
      assert.ok(received.some(frame => frame.keyframe), 'the keyframe mid-file is flagged')
      assert.ok(received.some(frame => !frame.keyframe))
    }
    await destroyAll(a, b)
  })
}

test('remote tracks give RTP packets with increasing sequence numbers; writeRtp forwards them', async () => {
  const source = videoTrack()
  const first = await mediaPair({ stream: new MediaStream([source]) })
  const relayed = videoTrack() // fed with RTP only
  const second = await mediaPair({ stream: new MediaStream([relayed]) })
  const samples = await samplesOf('vp8')

  const { track: incoming } = await remoteTrackFor(first.b, source)
  // An SFU in one line: every packet first.b receives is written into second.a's track.
  incoming.on('rtp', packet => relayed.writeRtp(packet))
  const packets = collect(incoming, 'rtp', 25) // a frame of this clip fills one packet or more
  await writeAll(source, samples.slice(0, 25))

  const sequence = (await packets).map(packet => packet.readUInt16BE(2))
  for (let i = 1; i < sequence.length; i++) assert.equal(sequence[i], (sequence[i - 1] + 1) & 0xffff)
  assert.equal((await packets)[0][0] >> 6, 2, 'RTP version 2')
  assert.ok(await until(() => second.b.tracks.length === 1 && second.b.tracks[0].track.frames.length >= 20), 'relayed frames arrive')
  const sent = samples.slice(0, 25).map(sample => sample.data)
  for (const frame of second.b.tracks[0].track.frames) {
    assert.ok(sent.some(data => data.equals(frame.data)), 'a relayed frame is one that was sent')
  }
  await destroyAll(first.a, first.b, second.a, second.b)
})

test('remote tracks are async iterable and readable as a stream', async () => {
  const track = videoTrack()
  const { a, b } = await mediaPair({ stream: new MediaStream([track]) })
  const { track: remote } = await remoteTrackFor(b, track)
  const samples = await samplesOf('vp8')
  const sending = writeAll(track, samples.slice(1, 11))
  const got = []
  for await (const frame of remote) {
    got.push(frame.data)
    if (got.length === 10) break
  }
  await sending
  assert.ok(got.every((data, i) => data.equals(samples[i + 1].data)))
  const rtp = remote.createReadStream({ rtp: true })
  const packet = withTimeout(new Promise(resolve => rtp.once('data', resolve)), 5000, 'rtp from the stream')
  track.writeSample(samples[11].data)
  assert.ok(Buffer.isBuffer(await packet))
  rtp.destroy()
  const ended = waitFor(remote, 'ended')
  await destroyAll(a, b)
  await ended
  assert.equal(remote.readyState, 'ended')
})

test('streams added later, on either side, incrementally; one stream event per stream', async () => {
  const { a, b } = await mediaPair()
  const video = videoTrack()
  const fromA = new MediaStream([video])
  a.addStream(fromA)
  await waitFor(a, 'negotiated')
  const { stream: seenByB } = await remoteTrackFor(b, video)
  assert.equal(seenByB.id, fromA.id)

  // The non-initiator adds one: it asks the initiator to renegotiate and for a transceiver.
  const audio = new MediaStreamTrack({ kind: 'audio' })
  const fromB = new MediaStream([audio])
  b.addStream(fromB)
  const { track: audioAtA, stream: seenByA } = await remoteTrackFor(a, audio)
  assert.equal(seenByA.id, fromB.id)
  assert.equal(audioAtA.kind, 'audio')

  // A second track joins a stream already announced: a track event, no new stream event.
  // (Its codec must be one already negotiated for video: webrtc 0.21 narrows its codecs.)
  const second = videoTrack('vp8')
  fromA.addTrack(second)
  a.addTrack(second, fromA)
  const { track: secondAtB, stream } = await remoteTrackFor(b, second)
  assert.equal(secondAtB.id, second.id)
  assert.equal(stream.id, fromA.id)
  await new Promise(resolve => setImmediate(resolve))
  assert.deepEqual(b.streamEvents.map(s => s.id), [fromA.id])
  assert.deepEqual(a.streamEvents.map(s => s.id), [fromB.id])
  assert.equal(b.streamEvents[0].getTracks().length, 2)
  await destroyAll(a, b)
})

test('a stream given to the non-initiator only, and several streams at once', async () => {
  const audio = new MediaStreamTrack({ kind: 'audio' })
  const video = videoTrack()
  const screen = videoTrack('vp9')
  const camera = new MediaStream([audio, video])
  const screenStream = new MediaStream([screen])
  const { a, b } = await mediaPair({}, { streams: [camera, screenStream] })
  for (const track of [audio, video, screen]) await remoteTrackFor(a, track)
  await new Promise(resolve => setImmediate(resolve))
  assert.deepEqual(a.tracks.map(t => t.track.id).sort(), [audio.id, video.id, screen.id].sort())
  assert.deepEqual(a.streamEvents.map(s => s.id).sort(), [camera.id, screenStream.id].sort())
  await destroyAll(a, b)
})

test('removeStream, then addStream again; a removed track cannot be re-added', async () => {
  const first = videoTrack()
  const stream = new MediaStream([first])
  const { a, b } = await mediaPair({ stream })
  const { track: remoteFirst } = await remoteTrackFor(b, first)
  a.removeStream(stream)
  await waitFor(a, 'negotiated')
  assert.equal(first.writeSample(Buffer.from([1])), false, 'a removed track feeds nothing')
  assert.throws(() => a.addTrack(first, stream), { code: 'ERR_SENDER_REMOVED' })

  const next = videoTrack()
  const nextStream = new MediaStream([next])
  a.addStream(nextStream)
  const { track: remoteNext, stream: remoteStream } = await remoteTrackFor(b, next)
  assert.notEqual(remoteNext, remoteFirst)
  assert.equal(remoteStream.id, nextStream.id)
  assert.equal(a.connected && b.connected, true)
  await destroyAll(a, b)
})

test('removeTrack right after addTrack leaves a working connection', async () => {
  const { a, b } = await mediaPair()
  const track = videoTrack()
  const stream = new MediaStream([track])
  a.addTrack(track, stream)
  a.removeTrack(track, stream)
  await waitFor(a, 'negotiated')
  const message = waitFor(b, 'data')
  a.send('still here')
  assert.equal(String(await message), 'still here')
  assert.deepEqual(b.tracks, [])
  await destroyAll(a, b)
})

test('replaceTrack: the sender carries the new track; the old one feeds nothing', async () => {
  const oldTrack = videoTrack()
  const stream = new MediaStream([oldTrack])
  const { a, b } = await mediaPair({ stream })
  const { track: remote } = await remoteTrackFor(b, oldTrack)
  const newTrack = videoTrack()
  a.replaceTrack(oldTrack, newTrack, stream)
  assert.equal(oldTrack.writeSample(Buffer.from([1])), false)
  const samples = await samplesOf('vp8')
  const frames = collect(remote, 'frame', 5)
  await writeAll(newTrack, samples.slice(1, 6))
  const got = await frames
  got.forEach((frame, i) => assert.ok(frame.data.equals(samples[i + 1].data)))
  assert.throws(() => a.replaceTrack(videoTrack(), newTrack, stream), { code: 'ERR_TRACK_NOT_ADDED' })
  a.replaceTrack(newTrack, null, stream) // the sender goes quiet
  assert.equal(newTrack.writeSample(samples[1].data), false)
  a.replaceTrack(newTrack, newTrack, stream) // and can be fed again
  assert.equal(newTrack.writeSample(samples[1].data), true)
  const unsupported = waitFor(a, 'error')
  a.replaceTrack(newTrack, videoTrack('h264'), stream)
  assert.equal((await unsupported).code, 'ERR_UNSUPPORTED_REPLACETRACK')
  await destroyAll(a, b)
})

test('addTransceiver: the initiator adds one; the non-initiator signals a transceiverRequest', async () => {
  const { a, b } = await mediaPair()
  a.addTransceiver('audio', { direction: 'recvonly' })
  await waitFor(a, 'negotiated')
  const request = new Promise(resolve => b.on('signal', data => { if (data.transceiverRequest) resolve(data) }))
  b.addTransceiver('video', { direction: 'sendrecv' })
  assert.deepEqual(await request, { type: 'transceiverRequest', transceiverRequest: { kind: 'video', init: { direction: 'sendrecv' } } })
  await waitFor(a, 'negotiated')
  assert.equal(a.connected && b.connected, true)
  const failed = waitFor(a, 'error')
  a.addTransceiver('hologram')
  assert.equal((await failed).code, 'ERR_ADD_TRANSCEIVER')
  await destroyAll(a, b)
})

test('media API errors: wrong types throw TypeErrors, bad pairs give simple-peer codes', async () => {
  const { a, b } = await connectedPair()
  created.push(a, b)
  const track = videoTrack()
  const stream = new MediaStream([track])
  assert.throws(() => a.addTrack({ kind: 'video' }, stream), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => a.addStream('camera'), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => new MediaStreamTrack({ kind: 'smell' }), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => new MediaStreamTrack({ kind: 'audio', codec: 'vp8' }), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => track.writeSample('not bytes'), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => track.writeSample(Buffer.alloc(1), { duration: -1 }), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => readMediaFile(path.join(__dirname, 'helpers.js')), { code: 'ERR_MEDIA_FILE', message: /not an IVF/ })
  assert.throws(() => readMediaFile(path.join(__dirname, 'no-such-file.ivf')), { code: 'ERR_MEDIA_FILE', message: /no-such-file/ })
  assert.throws(() => a.removeTrack(track, stream), { code: 'ERR_TRACK_NOT_ADDED' })
  a.addTrack(track, stream)
  assert.throws(() => a.addTrack(track, stream), { code: 'ERR_SENDER_ALREADY_ADDED' })
  await destroyAll(a, b)
  assert.throws(() => a.addTrack(videoTrack(), stream), { code: 'ERR_DESTROYED' })
  assert.throws(() => a.removeStream(stream), { code: 'ERR_DESTROYED' })
  assert.equal(track.writeSample(Buffer.alloc(1)), false, 'a destroyed peer takes nothing')
})

test('MediaStream and MediaStreamTrack behave like the browser classes', () => {
  const audio = new MediaStreamTrack({ kind: 'audio', label: 'mic' })
  const video = videoTrack('h264')
  const stream = new MediaStream([audio, video])
  assert.equal(typeof stream.id, 'string')
  assert.deepEqual(stream.getAudioTracks(), [audio])
  assert.deepEqual(stream.getVideoTracks(), [video])
  assert.equal(stream.getTrackById(video.id), video)
  assert.equal(stream.active, true)
  const copy = stream.clone()
  assert.notEqual(copy.id, stream.id)
  assert.equal(copy.getTracks().length, 2)
  assert.equal(copy.getVideoTracks()[0].codec, 'h264')
  stream.removeTrack(audio)
  assert.deepEqual(stream.getTracks(), [video])
  video.stop()
  assert.equal(video.readyState, 'ended')
  assert.equal(stream.active, false)
  assert.equal(video.writeSample(Buffer.alloc(1)), false)
  assert.equal(audio.enabled, true)
  assert.equal(audio.label, 'mic')
  assert.equal(audio.codec, 'opus')
  assert.equal(new MediaStream(stream).getTracks().length, 1)
})

// As in browsers: 'track' and 'stream' fire while the remote description is applied, for a
// track that has sent nothing yet, with the sender's track and stream ids (its msid); each
// exactly once across renegotiations from either side; media reaches that same track later.
test('remote tracks are announced at negotiation with the sender\'s ids, once each, and carry media later', async () => {
  const video = videoTrack()
  const audio = new MediaStreamTrack({ kind: 'audio' })
  const stream = new MediaStream([video, audio])
  const { a, b } = await mediaPair({ stream })
  assert.ok(await until(() => b.tracks.length === 2), 'both tracks announced before any packet')
  assert.deepEqual(b.tracks.map(({ track }) => track.id).sort(), [video.id, audio.id].sort())
  assert.deepEqual(b.tracks.map(({ stream: remote }) => remote.id), [stream.id, stream.id])
  await until(() => b.streamEvents.length === 1)
  assert.deepEqual(b.streamEvents.map(remote => remote.id), [stream.id])
  assert.equal(b.streamEvents[0].getTracks().length, 2)

  const negotiated = () => Promise.all([waitFor(a, 'negotiated'), waitFor(b, 'negotiated')])
  let both = negotiated()
  a.negotiate()
  await both
  both = negotiated()
  b.negotiate()
  await both
  const answererStream = new MediaStream([videoTrack()])
  both = negotiated()
  b.addStream(answererStream)
  await both
  assert.ok(await until(() => a.tracks.length === 1), 'the answerer\'s track reaches the initiator')
  assert.equal(a.tracks[0].track.id, answererStream.getTracks()[0].id)
  assert.equal(a.tracks[0].stream.id, answererStream.id)
  assert.equal(b.tracks.length, 2, 'renegotiations announced no track twice')
  assert.equal(b.streamEvents.length, 1, 'nor a stream')

  const announced = b.tracks.find(({ track }) => track.id === video.id).track
  const samples = await samplesOf('vp8')
  const frames = collect(announced, 'frame', 5)
  await writeAll(video, samples)
  assert.deepEqual((await frames).map(frame => frame.data), samples.slice(0, 5).map(sample => sample.data))
  assert.equal(b.tracks.length, 2, 'the first packet announces nothing more')
})
