'use strict'
// Media without a browser: tracks carry encoded media. A local track is fed with encoded
// frames (writeSample) or RTP packets (writeRtp) and sends them on every peer it was added
// to; a remote track emits the RTP packets and reassembled frames that arrive.
const { EventEmitter } = require('events')
const { Readable } = require('stream')
const { randomUUID } = require('crypto')
const { NativeMediaReader, supportedCodecs } = require('../binding')
const { errCode, toBuffer } = require('./util')

// What a track can carry, by kind, default first (media.rs owns the list).
const CODECS = supportedCodecs()
const DEFAULT_DURATION_MS = { audio: 20, video: 1000 / 30 }
// Frames a paused reader may hold before older ones are dropped: live media cannot wait.
const READ_BUFFER_FRAMES = 256

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
    this._senders = new Set() // { native, senderId } per peer the track was added to
    this._source = null // remote tracks: { native, id }
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
    this.emit('ended')
  }

  clone () {
    return new MediaStreamTrack({ kind: this.kind, codec: this.codec, label: this.label })
  }

  /**
   * Remote tracks: a Readable (object mode) of frames `{ data, timestamp, keyframe }`, or of
   * RTP packets with `{ rtp: true }`. A reader that falls behind loses the oldest frames.
   */
  createReadStream ({ rtp = false } = {}) {
    const event = rtp ? 'rtp' : 'frame'
    const stream = new Readable({ objectMode: true, read () {} })
    const onData = item => {
      while (stream.readableLength >= READ_BUFFER_FRAMES) stream.read()
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
    track._source = native ? { native, id: info.id } : null
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

module.exports = { MediaStream, MediaStreamTrack, readMediaFile }
