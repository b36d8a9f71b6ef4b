'use strict'
// wrtc's nonstandard raw-media API (`Peer.nonstandard`), so code written against
// `require('wrtc').nonstandard` runs with its require changed: RTCAudioSource feeds PCM to
// the tracks it creates, RTCAudioSink hands a track's decoded audio to `ondata` in 10 ms
// frames, as wrtc's do.
const { NativeAudioSource } = require('../binding')
const { MediaStreamTrack, checkPcm } = require('./media')
const { errCode } = require('./util')

class RTCAudioSource {
  constructor () {
    this._native = new NativeAudioSource()
  }

  /** An audio track that sends what `onData` is given; any number share the source. */
  createTrack () {
    const track = new MediaStreamTrack({ kind: 'audio' })
    track._usePcmSource(this._native, false)
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

class RTCAudioSink {
  /** @param {MediaStreamTrack} track a remote audio track */
  constructor (track) {
    if (!(track instanceof MediaStreamTrack) || track.kind !== 'audio') {
      throw errCode(new TypeError('RTCAudioSink takes an audio MediaStreamTrack'), 'ERR_INVALID_ARG_TYPE')
    }
    this.ondata = null
    this.stopped = false
    this._track = track
    this._onPcm = frame => this._deliver(frame)
    track.on('pcm', this._onPcm)
  }

  // Decoded frames last 20 ms (or more); wrtc's sink gives 10 ms each.
  _deliver ({ samples, sampleRate, channelCount }) {
    const step = (sampleRate / 100) * channelCount
    for (let start = 0; start < samples.length && !this.stopped; start += step) {
      const chunk = samples.subarray(start, start + step)
      if (typeof this.ondata === 'function') {
        this.ondata({ samples: chunk, sampleRate, bitsPerSample: 16, channelCount, numberOfFrames: chunk.length / channelCount })
      }
    }
  }

  stop () {
    if (this.stopped) return
    this.stopped = true
    this._track.removeListener('pcm', this._onPcm)
  }
}

module.exports = { RTCAudioSource, RTCAudioSink }
