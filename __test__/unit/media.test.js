'use strict'
// MediaStream and MediaStreamTrack as objects: the codec list they accept is the native one.
const test = require('node:test')
const assert = require('node:assert')
const { MediaStream, MediaStreamTrack } = require('../../lib/media')
const { supportedCodecs } = require('../../binding')

test('tracks take every codec the native side lists, defaulting to the first of each kind', () => {
  const codecs = supportedCodecs()
  assert.deepStrictEqual(codecs, { audio: ['opus'], video: ['vp8', 'vp9', 'h264', 'av1'] })
  for (const kind of ['audio', 'video']) {
    assert.strictEqual(new MediaStreamTrack({ kind }).codec, codecs[kind][0])
    for (const codec of codecs[kind]) {
      assert.strictEqual(new MediaStreamTrack({ kind, codec: codec.toUpperCase() }).codec, codec)
    }
  }
  assert.throws(() => new MediaStreamTrack({ kind: 'audio', codec: 'vp8' }), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => new MediaStreamTrack({ kind: 'data' }), { code: 'ERR_INVALID_ARG_TYPE' })
})

test('a local track with no peer takes no writes; a stopped one refuses them', () => {
  const track = new MediaStreamTrack({ kind: 'video' })
  assert.strictEqual(track.writeSample(Buffer.from([0x10])), false)
  assert.throws(() => track.writeSample('text'), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => track.writeSample(Buffer.alloc(1), { duration: -1 }), { code: 'ERR_INVALID_ARG_TYPE' })
  let ended = 0
  track.on('ended', () => ended++)
  track.stop()
  track.stop()
  assert.deepStrictEqual([track.readyState, ended], ['ended', 1])
})

test('a stream lists its tracks by kind and id', () => {
  const audio = new MediaStreamTrack({ kind: 'audio' })
  const video = new MediaStreamTrack({ kind: 'video', id: 'v1' })
  const stream = new MediaStream([audio, video])
  assert.deepStrictEqual(stream.getAudioTracks(), [audio])
  assert.strictEqual(stream.getTrackById('v1'), video)
  assert.ok(stream.active)
  stream.removeTrack(audio)
  assert.deepStrictEqual(stream.getTracks(), [video])
  assert.throws(() => new MediaStream([{}]), { code: 'ERR_INVALID_ARG_TYPE' })
})
