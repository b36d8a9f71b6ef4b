'use strict'
// Raw audio between two Node peers: PCM in on one side, Opus-encoded natively, decoded to PCM
// on the other; through writePcm/'pcm' and through wrtc's nonstandard RTCAudioSource/Sink.
const test = require('node:test')
const assert = require('node:assert/strict')
const { Peer, makePair, relay, waitFor, destroyMade } = require('./helpers')
const { dominantFrequency, sine } = require('./fixtures/tones')

const { MediaStream, MediaStreamTrack } = Peer
const { RTCAudioSource, RTCAudioSink } = Peer.nonstandard

test.afterEach(destroyMade)

// Feeds `track` `seconds` of a tone in 10 ms chunks at the pace they play, as a live source
// does, and resolves with how many chunks were taken.
async function playTone (write, frequency, { sampleRate = 48000, channels = 1, seconds = 1.5 } = {}) {
  const chunk = sampleRate / 100
  const tone = sine(frequency, sampleRate, Math.round(sampleRate * seconds), channels)
  const started = Date.now()
  let taken = 0
  for (let offset = 0; offset < tone.length; offset += chunk * channels) {
    if (write(tone.subarray(offset, offset + chunk * channels))) taken++
    const due = started + (offset / channels / sampleRate) * 1000
    await new Promise(resolve => setTimeout(resolve, Math.max(0, due - Date.now())))
  }
  return taken
}

// Mono PCM of everything `track` decodes until `seconds` of audio have arrived.
function hear (track, seconds) {
  return new Promise(resolve => {
    const frames = []
    let length = 0
    const onPcm = ({ samples, channelCount, sampleRate }) => {
      const mono = channelCount === 1 ? samples : samples.filter((_, index) => index % 2 === 0)
      frames.push({ mono, sampleRate })
      length += mono.length
      if (length < sampleRate * seconds) return
      track.removeListener('pcm', onPcm)
      const all = new Int16Array(length)
      let at = 0
      for (const frame of frames) { all.set(frame.mono, at); at += frame.mono.length }
      resolve({ samples: all, sampleRate, frames: frames.length })
    }
    track.on('pcm', onPcm)
  })
}

// A connected pair whose initiator sends `stream`, and the remote track the other side got
// (announced during negotiation, so listened for from the start).
async function audioPair (stream) {
  if (stream instanceof MediaStreamTrack) stream = new MediaStream([stream])
  const { a, b } = makePair({ stream }, {})
  relay(a, b)
  relay(b, a)
  const [[remote]] = await Promise.all([waitFor(b, 'track'), waitFor(a, 'connect'), waitFor(b, 'connect')])
  return { a, b, remote }
}

test('writePcm: a 440 Hz tone at 48 kHz arrives decoded at 440 Hz, 50 frames a second', async () => {
  const track = new MediaStreamTrack({ kind: 'audio' })
  const { remote } = await audioPair(track)
  assert.equal(remote.kind, 'audio')
  const heard = hear(remote, 1)
  const taken = await playTone(samples => track.writePcm(samples), 440, { seconds: 2 })
  assert.equal(taken, 200)
  const { samples, sampleRate, frames } = await heard
  assert.equal(sampleRate, 48000)
  assert.equal(frames, 50) // 20 ms Opus frames
  const found = dominantFrequency(samples.subarray(9600), sampleRate)
  assert.ok(Math.abs(found - 440) <= 10, `found ${found} Hz`)
})

test('writePcm resamples: 44.1 kHz stereo at 660 Hz arrives at 660 Hz', async () => {
  const track = new MediaStreamTrack({ kind: 'audio' })
  const { remote } = await audioPair(track)
  const heard = hear(remote, 1)
  await playTone(samples => track.writePcm(samples, { sampleRate: 44100, channels: 2 }), 660, { sampleRate: 44100, channels: 2, seconds: 2 })
  const { samples, sampleRate } = await heard
  const found = dominantFrequency(samples.subarray(9600), sampleRate)
  assert.ok(Math.abs(found - 660) <= 10, `found ${found} Hz`)
})

test('RTCAudioSource and RTCAudioSink, as wrtc shapes them: 10 ms frames both ways', async () => {
  const source = new RTCAudioSource()
  const track = source.createTrack()
  assert.equal(track.kind, 'audio')
  const { remote } = await audioPair(track)
  const sink = new RTCAudioSink(remote)
  const received = []
  sink.ondata = data => received.push(data)
  await playTone(samples => source.onData({ samples, sampleRate: 48000, bitsPerSample: 16, channelCount: 1, numberOfFrames: samples.length }), 440, { seconds: 1 })
  await new Promise(resolve => setTimeout(resolve, 300))
  sink.stop()
  const count = received.length
  assert.ok(count >= 80, `${count} frames`)
  for (const data of received) {
    assert.ok(data.samples instanceof Int16Array)
    assert.equal(data.sampleRate, 48000)
    assert.equal(data.bitsPerSample, 16)
    assert.equal(data.numberOfFrames, 480)
    assert.equal(data.samples.length, 480 * data.channelCount)
  }
  const mono = Int16Array.from(received.slice(20).flatMap(data => [...data.samples.filter((_, i) => i % data.channelCount === 0)]))
  const found = dominantFrequency(mono, 48000)
  assert.ok(Math.abs(found - 440) <= 10, `found ${found} Hz`)
  await new Promise(resolve => setTimeout(resolve, 100))
  assert.equal(received.length, count, 'a stopped sink gets nothing')
})

test('a source faster than real time is paced: 2 s buffered, then refused until it drains', async () => {
  const track = new MediaStreamTrack({ kind: 'audio' })
  const { remote } = await audioPair(track)
  let frames = 0
  remote.on('pcm', () => frames++)
  const second = sine(440, 48000, 48000)
  assert.equal(track.writePcm(second), true)
  assert.equal(track.writePcm(second), true)
  assert.equal(track.writePcm(second), false, 'a third second runs too far ahead')
  assert.ok(track.pcmBufferedMs > 1900, `${track.pcmBufferedMs} ms buffered`)
  const started = Date.now()
  await new Promise(resolve => setTimeout(resolve, 1000))
  assert.ok(track.pcmBufferedMs < 1300, `${track.pcmBufferedMs} ms still buffered after ${Date.now() - started} ms`)
  assert.equal(track.writePcm(second.subarray(0, 4800)), true)
  // Sent at the pace it plays: about 50 frames in that second, not 100 in a burst.
  assert.ok(frames >= 35 && frames <= 60, `${frames} frames in a second`)
})

test('a slow PCM reader loses the oldest frames, counted; a track added to two peers feeds both', async () => {
  const track = new MediaStreamTrack({ kind: 'audio' })
  const stream = new MediaStream([track])
  const { remote: remoteOne } = await audioPair(stream)
  const { remote: remoteTwo } = await audioPair(stream)
  const reader = remoteOne.createReadStream({ decoded: true })
  const heardTwo = hear(remoteTwo, 1)
  await playTone(samples => track.writePcm(samples), 440, { seconds: 6.5 })
  const { samples } = await heardTwo
  assert.ok(Math.abs(dominantFrequency(samples.subarray(9600), 48000) - 440) <= 10)
  // ~325 frames arrived; the unread stream keeps 256 of them.
  assert.ok(reader.dropped > 20, `dropped ${reader.dropped}`)
  assert.equal(reader.readableLength, 256)
  reader.destroy()
})

test('PCM input errors: TypeErrors with codes, as wrtc throws them', async () => {
  const track = new MediaStreamTrack({ kind: 'audio' })
  const video = new MediaStreamTrack({ kind: 'video' })
  const source = new RTCAudioSource()
  const bad = [
    () => track.writePcm(new Float32Array(480)),
    () => track.writePcm(new Int16Array(480), { channels: 3 }),
    () => track.writePcm(new Int16Array(481), { channels: 2 }),
    () => track.writePcm(new Int16Array(480), { sampleRate: 100 }),
    () => track.writePcm(new Int16Array(480), { sampleRate: 44100.5 }),
    () => video.writePcm(new Int16Array(480)),
    () => source.onData(null),
    () => source.onData({ samples: new Int16Array(480), sampleRate: 48000, bitsPerSample: 8 }),
    () => source.onData({ samples: new Int16Array(480), sampleRate: 48000, numberOfFrames: 441 }),
    () => new RTCAudioSink(video),
    () => new RTCAudioSink({})
  ]
  for (const call of bad) {
    assert.throws(call, err => err instanceof TypeError && err.code === 'ERR_INVALID_ARG_TYPE', String(call))
  }
  track.stop()
  assert.equal(track.writePcm(new Int16Array(480)), false, 'an ended track takes nothing')
})
