'use strict'
// wrtc's nonstandard raw-media API (`Peer.nonstandard`), so code written against
// `require('wrtc').nonstandard` runs with its require changed. Sources feed PCM or I420 to
// the tracks they create (encoded natively, Opus and H264); sinks are EventTargets that
// hand a remote track's decoded media to `ondata` (10 ms of PCM each, as wrtc's) or
// `onframe`.
const { NativeAudioSource, NativeVideoSource } = require('../binding')
const { MediaStreamTrack, checkPcm, checkI420, asBytes } = require('./media')
const { errCode } = require('./util')

class RTCAudioSource {
  constructor () {
    this._native = new NativeAudioSource()
  }

  /** An audio track that sends what `onData` is given; any number share the source. */
  createTrack () {
    const track = new MediaStreamTrack({ kind: 'audio' })
    track._useRawSource(this._native, false)
    return track
  }

  /**
   * wrtc's data shape: `{ samples: Int16Array, sampleRate, bitsPerSample: 16, channelCount,
   * numberOfFrames }`. Any length is taken (wrtc insists on 10 ms); returns false when the
   * samples were dropped because 2 s are already waiting.
   */
  onData (data) {
    if (typeof data !== 'object' || data === null) throw errCode(new TypeError('onData() takes { samples, sampleRate, channelCount, ... }'), 'ERR_INVALID_ARG_TYPE')
    const { samples, sampleRate = 48000, bitsPerSample = 16, channelCount = 1, numberOfFrames } = data
    if (bitsPerSample !== 16) throw errCode(new TypeError(`bitsPerSample must be 16, got ${bitsPerSample}`), 'ERR_INVALID_ARG_TYPE')
    checkPcm(samples, sampleRate, channelCount)
    if (numberOfFrames !== undefined && numberOfFrames * channelCount !== samples.length) {
      throw errCode(new TypeError(`numberOfFrames ${numberOfFrames} does not match ${samples.length} samples in ${channelCount} channels`), 'ERR_INVALID_ARG_TYPE')
    }
    return this._native.push(samples, sampleRate, channelCount)
  }
}

class RTCVideoSource {
  constructor ({ isScreencast = false, needsDenoising } = {}) {
    this.isScreencast = Boolean(isScreencast)
    this.needsDenoising = needsDenoising
    this._native = new NativeVideoSource()
  }

  /** An H264 video track that sends what `onFrame` is given; any number share the source. */
  createTrack () {
    const track = new MediaStreamTrack({ kind: 'video', codec: 'h264' })
    track._useRawSource(this._native, false)
    return track
  }

  /**
   * `{ width, height, data }`, data packed I420 (a Uint8Array or Uint8ClampedArray). Returns
   * false when it replaced a frame the encoder had not yet taken (that one is dropped).
   */
  onFrame (frame) {
    checkI420(frame)
    const { width, height, data } = frame
    return this._native.push(width, height, asBytes(data))
  }
}

// A sink listens to one remote track's decoded media while it is not stopped.
class Sink extends EventTarget {
  constructor (track, kind, event) {
    super()
    if (!(track instanceof MediaStreamTrack) || track.kind !== kind) {
      throw errCode(new TypeError(`${this.constructor.name} takes an ${kind} MediaStreamTrack`), 'ERR_INVALID_ARG_TYPE')
    }
    this.stopped = false
    this._track = track
    this._event = event
    this._onDecoded = decoded => this._deliver(decoded)
    track.on(event, this._onDecoded)
  }

  // wrtc's events: an Event whose own properties carry the media, to `on<type>` and listeners.
  _dispatch (type, properties) {
    const event = Object.assign(new Event(type), properties)
    const handler = this['on' + type]
    if (typeof handler === 'function') handler.call(this, event)
    this.dispatchEvent(event)
  }

  stop () {
    if (this.stopped) return
    this.stopped = true
    this._track.removeListener(this._event, this._onDecoded)
  }
}

class RTCAudioSink extends Sink {
  /** @param {MediaStreamTrack} track a remote audio track */
  constructor (track) {
    super(track, 'audio', 'pcm')
    this.ondata = null
  }

  // Decoded frames last 20 ms (or more); wrtc's sink gives 10 ms each.
  _deliver ({ samples, sampleRate, channelCount }) {
    const step = (sampleRate / 100) * channelCount
    for (let start = 0; start < samples.length && !this.stopped; start += step) {
      const chunk = samples.subarray(start, start + step)
      this._dispatch('data', { samples: chunk, sampleRate, bitsPerSample: 16, channelCount, numberOfFrames: chunk.length / channelCount })
    }
  }
}

class RTCVideoSink extends Sink {
  /** @param {MediaStreamTrack} track a remote video track (H264 decodes) */
  constructor (track) {
    super(track, 'video', 'i420')
    this.onframe = null
  }

  _deliver ({ width, height, data }) {
    const frame = { width, height, rotation: 0, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.length) }
    this._dispatch('frame', { frame })
  }
}

// BT.601 limited range, as wrtc's (libyuv's) converters; the frames are { width, height,
// data }, I420 as above and RGBA at 4 bytes a pixel, both allocated by the caller. Returns
// the I420 layout: its size and where its U and V planes start.
function checkPair (i420, rgba) {
  checkI420(i420)
  const { width, height } = i420
  if (typeof rgba !== 'object' || rgba === null || rgba.width !== width || rgba.height !== height ||
    !rgba.data || rgba.data.length !== width * height * 4) {
    throw errCode(new TypeError('an RGBA frame of the same size as the I420 one, with width * height * 4 bytes'), 'ERR_INVALID_ARG_TYPE')
  }
  return { width, height, uPlane: width * height, vPlane: width * height * 5 / 4 }
}

const clamp = value => value < 0 ? 0 : value > 255 ? 255 : Math.round(value)

function i420ToRgba (i420, rgba) {
  const { width, height, uPlane, vPlane } = checkPair(i420, rgba)
  const yuv = i420.data
  const out = rgba.data
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const chroma = (y >> 1) * (width >> 1) + (x >> 1)
      const c = 1.164 * (yuv[y * width + x] - 16)
      const d = yuv[uPlane + chroma] - 128
      const e = yuv[vPlane + chroma] - 128
      const at = (y * width + x) * 4
      out[at] = clamp(c + 1.596 * e)
      out[at + 1] = clamp(c - 0.392 * d - 0.813 * e)
      out[at + 2] = clamp(c + 2.017 * d)
      out[at + 3] = 255
    }
  }
}

function rgbaToI420 (rgba, i420) {
  const { width, height, uPlane, vPlane } = checkPair(i420, rgba)
  const input = rgba.data
  const out = i420.data
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * 4
      out[y * width + x] = clamp(16 + 0.257 * input[at] + 0.504 * input[at + 1] + 0.098 * input[at + 2])
    }
  }
  // Chroma from the average of each 2x2 block.
  for (let y = 0; y < height; y += 2) {
    for (let x = 0; x < width; x += 2) {
      let r = 0
      let g = 0
      let b = 0
      for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
        const at = ((y + dy) * width + x + dx) * 4
        r += input[at] / 4
        g += input[at + 1] / 4
        b += input[at + 2] / 4
      }
      const chroma = (y >> 1) * (width >> 1) + (x >> 1)
      out[uPlane + chroma] = clamp(128 - 0.148 * r - 0.291 * g + 0.439 * b)
      out[vPlane + chroma] = clamp(128 + 0.439 * r - 0.368 * g - 0.071 * b)
    }
  }
}

module.exports = { RTCAudioSource, RTCAudioSink, RTCVideoSource, RTCVideoSink, i420ToRgba, rgbaToI420 }
