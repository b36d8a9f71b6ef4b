'use strict'
// Media without a browser. A local track is fed with encoded frames (writeSample), RTP
// packets (writeRtp), PCM (writePcm, encoded to Opus natively) or I420 pictures (writeFrame,
// encoded to H264 natively) and sends them on every peer it was added to; a remote track
// emits the RTP packets and reassembled frames that arrive, and decoded PCM ('pcm') or I420
// ('i420') while anyone listens for them.
const { EventEmitter } = require('events')
const { Readable } = require('stream')
const { randomUUID } = require('crypto')
const { NativeMediaReader, NativeAudioSource, NativeVideoSource, supportedCodecs, rawMediaLimits } = require('../binding')
const { errCode, toBuffer } = require('./util')

// What a track can carry, by kind, default first, and the PCM rates and picture sizes raw
// tracks take (media.rs owns both).
const CODECS = supportedCodecs()
const LIMITS = rawMediaLimits()
const DEFAULT_DURATION_MS = { audio: 20, video: 1000 / 30 }
// Frames a paused reader may hold before older ones are dropped: live media cannot wait.
const READ_BUFFER_FRAMES = 256
// The event a remote track emits its decoded media as, by kind.
const DECODED = { audio: 'pcm', video: 'i420' }
// Sender handles name themselves to a native audio or video source by this key.
let nextSourceKey = 1

class MediaStreamTrack extends EventEmitter {
  /**
   * A local track: `new MediaStreamTrack({ kind: 'video', codec: 'vp8' })`.
   * @param {{ kind: 'audio'|'video', codec?: string, id?: string, label?: string }} init
   */
  constructor (init = {}) {
    super()
    const { kind } = init
    if (!(kind in CODECS)) {
      throw errCode(new TypeError(`track kind must be 'audio' or 'video', got ${JSON.stringify(kind)}`), 'ERR_INVALID_ARG_TYPE')
    }
    const codec = String(init.codec || CODECS[kind][0]).toLowerCase()
    if (!CODECS[kind].includes(codec)) {
      throw errCode(new TypeError(`${kind} codec must be one of ${CODECS[kind].join(', ')}, got ${JSON.stringify(init.codec)}`), 'ERR_INVALID_ARG_TYPE')
    }
    this.id = init.id || randomUUID()
    this.kind = kind
    this.codec = codec
    this.label = init.label || ''
    this.enabled = true
    this.muted = false
    this.readyState = 'live'
    this.remote = false
    this._senders = new Set() // { native, senderId, added } per peer the track was added to
    this._source = null // remote tracks: { native, id }
    this._rawSource = null // local: the NativeAudioSource or NativeVideoSource that encodes for it
    this._ownsRawSource = false // made by writePcm/writeFrame, not shared from an RTC*Source
    this._decodedWanted = false // remote: someone listens for 'pcm' or 'i420'
    /** Remote tracks: decoded frames lost because the JS thread had not taken earlier ones. */
    this.decodedDropped = 0
    this.on('newListener', event => { if (event === DECODED[this.kind]) this._wantDecoded(true) })
    this.on('removeListener', event => {
      if (event === DECODED[this.kind] && this.listenerCount(event) === 0) this._wantDecoded(false)
    })
  }

  /**
   * Sends one encoded frame (an Opus packet, a VP8/VP9/AV1 frame, an H264 access unit in
   * Annex-B) lasting `duration` milliseconds. Returns whether any peer took it.
   */
  writeSample (data, { duration } = {}) {
    const buffer = toBuffer(data)
    if (buffer === null) throw errCode(new TypeError('writeSample() takes a Buffer, TypedArray or ArrayBuffer'), 'ERR_INVALID_ARG_TYPE')
    if (duration === undefined) duration = DEFAULT_DURATION_MS[this.kind]
    if (typeof duration !== 'number' || !(duration >= 0)) {
      throw errCode(new TypeError('duration must be a number of milliseconds'), 'ERR_INVALID_ARG_TYPE')
    }
    return this._write(sender => sender.native.writeSample(sender.senderId, buffer, duration))
  }

  /** Sends a ready RTP packet; its SSRC and payload type are replaced by each sender's. */
  writeRtp (packet) {
    const buffer = toBuffer(packet)
    if (buffer === null) throw errCode(new TypeError('writeRtp() takes a Buffer, TypedArray or ArrayBuffer'), 'ERR_INVALID_ARG_TYPE')
    return this._write(sender => sender.native.writeRtp(sender.senderId, buffer))
  }

  /**
   * Sends PCM on an audio track: an Int16Array of interleaved samples, at any `sampleRate`
   * from 8000 (resampled to 48 kHz), in 1 or 2 `channels`, of any length. It is buffered,
   * Opus-encoded natively and sent in real time; returns false, dropping the samples, when
   * the track is ended or more than 2 s are already waiting (see `pcmBufferedMs`).
   */
  writePcm (samples, { sampleRate = 48000, channels = 1 } = {}) {
    if (this.remote) throw errCode(new Error('cannot write to a remote track'), 'ERR_INVALID_ARG_TYPE')
    if (this.kind !== 'audio') throw errCode(new TypeError('writePcm() needs an audio track'), 'ERR_INVALID_ARG_TYPE')
    checkPcm(samples, sampleRate, channels)
    if (this.readyState === 'ended' || !this.enabled) return false
    if (!this._rawSource) this._useRawSource(new NativeAudioSource(), true)
    return this._rawSource.push(samples, sampleRate, channels)
  }

  /** Milliseconds of PCM written and not yet sent. */
  get pcmBufferedMs () {
    return this._rawSource && this.kind === 'audio' ? this._rawSource.bufferedMs : 0
  }

  /**
   * Sends a picture on an H264 video track: `{ width, height, data }`, data packed I420 (Y,
   * then U and V at half size; even dimensions). Encoded natively off the JS thread; returns
   * false when it replaced a picture still waiting for the encoder (that one is dropped, as a
   * camera's late frame is) or the track is ended.
   */
  writeFrame (frame) {
    if (this.remote) throw errCode(new Error('cannot write to a remote track'), 'ERR_INVALID_ARG_TYPE')
    if (this.kind !== 'video' || this.codec !== 'h264') {
      throw errCode(new TypeError("writeFrame() encodes H264: create the track with { kind: 'video', codec: 'h264' }"), 'ERR_INVALID_ARG_TYPE')
    }
    checkI420(frame)
    if (this.readyState === 'ended' || !this.enabled) return false
    if (!this._rawSource) this._useRawSource(new NativeVideoSource(), true)
    return this._rawSource.push(frame.width, frame.height, asBytes(frame.data))
  }

  // This track's raw media is encoded by `source` (its own, or an RTC*Source's).
  _useRawSource (source, owned) {
    this._rawSource = source
    this._ownsRawSource = owned
    for (const handle of this._senders) this._attachRaw(handle)
  }

  // Handles are added once the peer has asked for the native sender (`added` settles when
  // it exists): only then can a native source reach it.
  _addSender (handle) {
    this._senders.add(handle)
    if (this._rawSource) this._attachRaw(handle)
  }

  _removeSender (handle) {
    this._senders.delete(handle)
    if (this._rawSource && handle.sourceKey) this._rawSource.detach(handle.sourceKey)
  }

  _attachRaw (handle) {
    if (!handle.sourceKey) handle.sourceKey = nextSourceKey++
    const source = this._rawSource
    handle.added.then(() => {
      if (this._rawSource !== source || !this._senders.has(handle)) return
      if (this.kind === 'audio') handle.native.attachAudioSource(handle.senderId, source, handle.sourceKey)
      else handle.native.attachVideoSource(handle.senderId, source, handle.sourceKey)
    }, () => {})
  }

  // Remote tracks: decoding runs natively only while someone listens.
  _wantDecoded (wanted) {
    if (this._decodedWanted === wanted) return
    this._decodedWanted = wanted
    if (this._source) this._source.native.decodeMedia(this._source.id, wanted)
  }

  _setSource (source) {
    this._source = source
    if (source && this._decodedWanted) source.native.decodeMedia(source.id, true)
  }

  _write (write) {
    if (this.remote) throw errCode(new Error('cannot write to a remote track'), 'ERR_INVALID_ARG_TYPE')
    if (this.readyState === 'ended' || !this.enabled) return false
    let taken = false
    for (const sender of this._senders) taken = write(sender) || taken
    return taken
  }

  /** Asks the remote sender of this (remote, video) track for a keyframe (RTCP PLI). */
  requestKeyFrame () {
    if (!this._source) return false
    return this._source.native.requestKeyFrame(this._source.id)
  }

  stop () {
    if (this.readyState === 'ended') return
    this.readyState = 'ended'
    if (this._rawSource) {
      for (const handle of this._senders) if (handle.sourceKey) this._rawSource.detach(handle.sourceKey)
      if (this._ownsRawSource) this._rawSource.stop()
      this._rawSource = null
    }
    this.emit('ended')
  }

  /** A clone of a PCM- or I420-fed track sends what its original is fed, as browsers' do. */
  clone () {
    const track = new MediaStreamTrack({ kind: this.kind, codec: this.codec, label: this.label })
    if (this._rawSource) track._useRawSource(this._rawSource, false)
    return track
  }

  /**
   * Remote tracks: a Readable (object mode) of frames `{ data, timestamp, keyframe }`, of
   * RTP packets with `{ rtp: true }`, or of decoded media with `{ decoded: true }` (audio:
   * `{ samples, sampleRate, channelCount, numberOfFrames, bitsPerSample }`, video:
   * `{ width, height, data }` in I420). A reader that falls behind loses the oldest items,
   * counted in the stream's `dropped`.
   */
  createReadStream ({ rtp = false, decoded = false } = {}) {
    const event = decoded ? DECODED[this.kind] : rtp ? 'rtp' : 'frame'
    const stream = new Readable({ objectMode: true, read () {} })
    stream.dropped = 0
    const onData = item => {
      while (stream.readableLength >= READ_BUFFER_FRAMES) {
        stream.read()
        stream.dropped++
      }
      stream.push(item)
    }
    const onEnded = () => stream.push(null)
    this.on(event, onData)
    this.once('ended', onEnded)
    stream.once('close', () => {
      this.removeListener(event, onData)
      this.removeListener('ended', onEnded)
    })
    if (this.readyState === 'ended') stream.push(null)
    return stream
  }

  [Symbol.asyncIterator] () {
    return this.createReadStream()[Symbol.asyncIterator]()
  }

  // A track created for media arriving from a peer.
  static _remote (info, native) {
    const track = new MediaStreamTrack({ kind: info.kind, codec: CODECS[info.kind].includes(info.codec) ? info.codec : undefined, id: info.trackId })
    track.remote = true
    track.codec = info.codec
    // Announced from the remote description, a track has no source until its first packet.
    track._setSource(native ? { native, id: info.id } : null)
    return track
  }

  _end () {
    this._source = null
    this.stop()
  }
}

class MediaStream extends EventEmitter {
  /** @param {MediaStream|MediaStreamTrack[]} [tracks] */
  constructor (tracks = [], id = randomUUID()) {
    super()
    this.id = id
    this._tracks = new Set(tracks instanceof MediaStream ? tracks.getTracks() : tracks)
    for (const track of this._tracks) {
      if (!(track instanceof MediaStreamTrack)) {
        throw errCode(new TypeError('a MediaStream holds MediaStreamTrack objects'), 'ERR_INVALID_ARG_TYPE')
      }
    }
  }

  get active () {
    return this.getTracks().some(track => track.readyState === 'live')
  }

  getTracks () { return [...this._tracks] }
  getAudioTracks () { return this.getTracks().filter(track => track.kind === 'audio') }
  getVideoTracks () { return this.getTracks().filter(track => track.kind === 'video') }
  getTrackById (id) { return this.getTracks().find(track => track.id === id) || null }

  addTrack (track) {
    if (!(track instanceof MediaStreamTrack)) throw errCode(new TypeError('addTrack() takes a MediaStreamTrack'), 'ERR_INVALID_ARG_TYPE')
    this._tracks.add(track)
  }

  removeTrack (track) {
    this._tracks.delete(track)
  }

  clone () {
    return new MediaStream(this.getTracks().map(track => track.clone()))
  }
}

/**
 * The samples of an IVF (VP8, VP9, AV1), H264 Annex-B or Ogg Opus file, as an async
 * iterable of `{ data, duration }` (milliseconds). With `realtime: true` samples are
 * yielded at the pace they play. `fps` sets the frame rate of H264 files (default 30).
 */
function readMediaFile (path, { realtime = false, fps } = {}) {
  let reader
  try {
    reader = new NativeMediaReader(String(path), fps)
  } catch (err) {
    throw errCode(err, 'ERR_MEDIA_FILE') // unreadable, or not a format listed above
  }
  const iterable = {
    codec: reader.codec,
    async * [Symbol.asyncIterator] () {
      const started = Date.now()
      let due = 0
      for (let sample = reader.next(); sample !== null; sample = reader.next()) {
        if (realtime) {
          const wait = started + due - Date.now()
          if (wait > 0) await new Promise(resolve => setTimeout(resolve, wait))
          due += sample.duration
        }
        yield sample
      }
    }
  }
  return iterable
}

// PCM as writePcm and RTCAudioSource.onData take it; the native side checks again.
function checkPcm (samples, sampleRate, channels) {
  if (!(samples instanceof Int16Array)) throw errCode(new TypeError('PCM samples must be an Int16Array'), 'ERR_INVALID_ARG_TYPE')
  if (channels !== 1 && channels !== 2) throw errCode(new TypeError(`channel count must be 1 or 2, got ${channels}`), 'ERR_INVALID_ARG_TYPE')
  if (!Number.isInteger(sampleRate) || sampleRate < LIMITS.minSampleRate || sampleRate > LIMITS.maxSampleRate) {
    throw errCode(new TypeError(`sample rate must be an integer from ${LIMITS.minSampleRate} to ${LIMITS.maxSampleRate}, got ${sampleRate}`), 'ERR_INVALID_ARG_TYPE')
  }
  if (samples.length % channels !== 0) throw errCode(new TypeError(`${samples.length} samples do not fill frames of ${channels} channels`), 'ERR_INVALID_ARG_TYPE')
}

// wrtc's frames hold Uint8ClampedArrays; the native side reads plain bytes (a view, no copy).
function asBytes (data) {
  return data instanceof Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.length)
}

// A picture as writeFrame and RTCVideoSource.onFrame take it.
function checkI420 (frame) {
  if (typeof frame !== 'object' || frame === null) throw errCode(new TypeError('a frame is { width, height, data }'), 'ERR_INVALID_ARG_TYPE')
  const { width, height, data } = frame
  const max = LIMITS.maxDimension
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 2 || height < 2 || width > max || height > max || width % 2 || height % 2) {
    throw errCode(new TypeError(`frame width and height must be even integers from 2 to ${max}, got ${width}x${height}`), 'ERR_INVALID_ARG_TYPE')
  }
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) throw errCode(new TypeError('frame data must be a Uint8Array or Uint8ClampedArray of I420'), 'ERR_INVALID_ARG_TYPE')
  if (data.length !== width * height * 3 / 2) {
    throw errCode(new TypeError(`an I420 frame of ${width}x${height} is ${width * height * 3 / 2} bytes, got ${data.length}`), 'ERR_INVALID_ARG_TYPE')
  }
}

module.exports = { MediaStream, MediaStreamTrack, readMediaFile, checkPcm, checkI420, asBytes }
