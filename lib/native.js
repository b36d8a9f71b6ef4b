// @ts-check
'use strict'
// The bridge to the native peer. Requests return promises: the ids the native side gives
// them and the routing of replies live here. Every other event goes to the Peer as a call
// of one of its `_on…` methods. This file is type-checked against the generated
// binding.d.ts (`npm run lint`), so an event, reply or request that Rust does not define,
// or one left unhandled, fails the lint.
const binding = require('../binding')
const { errCode } = require('./util')

/** @typedef {import('../binding').NativeEvent} NativeEvent */
/** @typedef {import('../binding').ReplyValue} ReplyValue */
/** @typedef {import('../binding').PeerOptions} PeerOptions */
/** @typedef {import('../binding').SessionDescription} SessionDescription */
/** @typedef {import('../binding').IceCandidate} IceCandidate */
/** @typedef {import('../binding').CandidatePair} CandidatePair */
/** @typedef {import('../binding').RemoteTrackInfo} RemoteTrackInfo */
/** @typedef {import('../binding').MediaFrame} MediaFrame */
/** @typedef {import('../binding').PcmFrame} PcmFrame */
/** @typedef {import('../binding').VideoFrameData} VideoFrameData */
/** @typedef {'iceGatheringState' | 'iceConnectionState' | 'connectionState' | 'signalingState'} StateName */

/**
 * What the bridge calls on its Peer for each event that is not a reply.
 * @typedef {object} NativeListener
 * @property {(candidate: IceCandidate) => void} _onNativeCandidate
 * @property {(name: StateName, state: string) => void} _onNativeState
 * @property {(label: string, pair: CandidatePair | null) => void} _onChannelOpen
 * @property {() => void} _onChannelClose
 * @property {(pieces: Buffer[], sizes: Uint32Array) => void} _onMessages
 * @property {() => void} _onChannelBufferedAmountLow
 * @property {(err: Error) => void} _onNativeError
 * @property {(id: number, track: RemoteTrackInfo) => void} _onTrack
 * @property {(id: number, kind: 'rtp' | 'frame' | 'pcm' | 'i420', item: Buffer | MediaFrame | PcmFrame | VideoFrameData, dropped?: number) => void} _onRemoteMedia
 * @property {(id: number) => void} _onRemoteTrackEnded
 * @property {() => void} _onNativeClosed
 */

/**
 * A reply of the kind the request has, narrowed to its type.
 * @template {ReplyValue['kind']} K
 * @param {K} kind
 * @returns {(value: ReplyValue) => Extract<ReplyValue, { kind: K }>}
 */
function expect (kind) {
  return value => {
    if (value.kind !== kind) throw errCode(new Error(`native reply '${value.kind}' to a '${kind}' request`), 'ERR_INTERNAL')
    return /** @type {Extract<ReplyValue, { kind: K }>} */ (value)
  }
}

class NativeBridge {
  /**
   * @param {PeerOptions} options
   * @param {NativeListener} listener
   */
  constructor (options, listener) {
    this._listener = listener
    /** @type {Map<number, { resolve: (value: ReplyValue) => void, reject: (err: Error) => void }>} */
    this._requests = new Map()
    this._peer = new binding.NativePeer(options, event => this._onEvent(event))
    /** The largest message send() takes: opts.native.maxMessageSize as the native side applies it. */
    this.maxMessageSize = this._peer.maxMessageSize
  }

  get bufferedAmount () { return this._peer.bufferedAmount }

  /** @param {boolean} iceRestart */
  createOffer (iceRestart) {
    return this._request(this._peer.createOffer(iceRestart)).then(expect('description'))
  }

  createAnswer () {
    return this._request(this._peer.createAnswer()).then(expect('description'))
  }

  /** The local description with the candidates gathered so far. */
  localDescription () {
    return this._request(this._peer.localDescription()).then(expect('description'))
  }

  /**
   * @param {string} type
   * @param {string} sdp
   */
  setRemoteDescription (type, sdp) {
    return this._request(this._peer.setRemoteDescription(type, sdp)).then(expect('remoteDescription'))
  }

  /**
   * Resolves false for a candidate no stack here can use (mDNS, no address): skipped.
   * @param {string} candidate
   * @param {string | null} sdpMid
   * @param {number | null} sdpMLineIndex
   */
  addIceCandidate (candidate, sdpMid, sdpMLineIndex) {
    return this._request(this._peer.addIceCandidate(candidate, sdpMid, sdpMLineIndex)).then(value => {
      if (value.kind === 'ignoredCandidate') return false
      expect('done')(value)
      return true
    })
  }

  /** The addresses of the candidate pair ICE selected, or null before there is one. */
  selectedCandidatePair () {
    return this._request(this._peer.selectedCandidatePair()).then(expect('selectedPair')).then(reply => reply.pair || null)
  }

  getStats () {
    return this._request(this._peer.getStats()).then(expect('stats')).then(reply => reply.reports)
  }

  /** Resolves once everything sent so far has been acknowledged by the remote. */
  flush () {
    return this._done(this._peer.flush())
  }

  /**
   * Queues a message; false when the caller should wait for _onChannelBufferedAmountLow.
   * @param {Buffer} buffer
   */
  send (buffer) { return this._peer.send(buffer) }

  /** @param {string} text */
  sendText (text) { return this._peer.sendText(text) }

  /**
   * JS has consumed this many bytes of received messages: Rust may read on.
   * @param {number} bytes
   */
  acknowledge (bytes) { this._peer.acknowledge(bytes) }

  /**
   * @param {number} senderId chosen by the Peer; names the sender in later calls
   * @param {string} trackId
   * @param {string} streamId
   * @param {string} kind
   * @param {string} codec
   */
  addTrack (senderId, trackId, streamId, kind, codec) {
    return this._done(this._peer.addTrack(senderId, trackId, streamId, kind, codec))
  }

  /** @param {number} senderId */
  removeTrack (senderId) {
    return this._done(this._peer.removeTrack(senderId))
  }

  /**
   * @param {string} kind
   * @param {string | null} direction
   */
  addTransceiver (kind, direction) {
    return this._done(this._peer.addTransceiver(kind, direction))
  }

  /** Local tracks whose transceiver has no m-line yet: `[{ kind, trackId }]`. */
  missingTransceivers () {
    return this._request(this._peer.missingTransceivers()).then(expect('missingTransceivers')).then(reply => reply.tracks)
  }

  /**
   * @param {number} senderId
   * @param {Buffer} data
   * @param {number} durationMs
   */
  writeSample (senderId, data, durationMs) { return this._peer.writeSample(senderId, data, durationMs) }

  /**
   * @param {number} senderId
   * @param {Buffer} packet
   */
  writeRtp (senderId, packet) { return this._peer.writeRtp(senderId, packet) }

  /** @param {number} remoteTrackId */
  requestKeyFrame (remoteTrackId) { return this._peer.requestKeyFrame(remoteTrackId) }

  /**
   * Decoded PCM or I420 events for a remote track, on or off.
   * @param {number} remoteTrackId
   * @param {boolean} on
   */
  decodeMedia (remoteTrackId, on) { return this._peer.decodeMedia(remoteTrackId, on) }

  /**
   * @param {number} senderId
   * @param {import('../binding').NativeAudioSource} source
   * @param {number} key names this sender to the source, for its detach()
   */
  attachAudioSource (senderId, source, key) { return this._peer.attachAudioSource(senderId, source, key) }

  /**
   * @param {number} senderId
   * @param {import('../binding').NativeVideoSource} source
   * @param {number} key names this sender to the source, for its detach()
   */
  attachVideoSource (senderId, source, key) { return this._peer.attachVideoSource(senderId, source, key) }

  /**
   * Debug builds only: a panic in this call ('sync') or in the peer's task ('task').
   * @param {string} place
   */
  _panicForTest (place) {
    this._request(this._peer._panicForTest(place)).catch(() => {})
  }

  /** Closes the peer; replies still due are dropped (the Peer is destroyed). */
  close () {
    this._requests.clear()
    this._peer.close()
  }

  /**
   * @param {number} id
   * @returns {Promise<ReplyValue>}
   */
  _request (id) {
    return new Promise((resolve, reject) => {
      this._requests.set(id, { resolve, reject })
    })
  }

  /**
   * A request that answers with nothing but success or failure.
   * @param {number} id
   * @returns {Promise<void>}
   */
  _done (id) {
    return this._request(id).then(expect('done')).then(() => {})
  }

  /**
   * @param {number} id
   * @param {(request: { resolve: (value: ReplyValue) => void, reject: (err: Error) => void }) => void} settle
   */
  _settle (id, settle) {
    const request = this._requests.get(id)
    if (!request) return
    this._requests.delete(id)
    settle(request)
  }

  /** @param {NativeEvent} event */
  _onEvent (event) {
    try {
      this._dispatch(event)
    } catch (err) {
      // An exception from a user's listener is theirs: surface it as Node would for any
      // event, not as a failure inside the native callback.
      process.nextTick(() => { throw err })
    }
  }

  /** @param {NativeEvent} event */
  _dispatch (event) {
    const peer = this._listener
    switch (event.type) {
      case 'reply': return this._settle(event.id, request => request.resolve(event.value))
      case 'failed': return this._settle(event.id, request => request.reject(errCode(new Error(event.message), event.code)))
      case 'messages': return peer._onMessages(event.pieces, event.sizes)
      case 'writable': return peer._onChannelBufferedAmountLow()
      case 'candidate': return peer._onNativeCandidate(event.candidate)
      case 'iceGatheringState':
      case 'iceConnectionState':
      case 'connectionState':
      case 'signalingState':
        return peer._onNativeState(event.type, event.state)
      case 'channelOpen': return peer._onChannelOpen(event.label, event.pair || null)
      case 'channelClose': return peer._onChannelClose()
      case 'track': return peer._onTrack(event.id, event.track)
      case 'rtp': return peer._onRemoteMedia(event.id, 'rtp', event.packet)
      case 'frame': return peer._onRemoteMedia(event.id, 'frame', event.frame)
      case 'pcm':
      case 'videoFrame':
        // Taken: the native side bounds what it sends ahead of this (media.rs DecodedOutput).
        this._peer.decodedTaken(event.id)
        return peer._onRemoteMedia(event.id, event.type === 'pcm' ? 'pcm' : 'i420', event.frame, event.dropped)
      case 'trackEnded': return peer._onRemoteTrackEnded(event.id)
      case 'error': return peer._onNativeError(errCode(new Error(event.message), event.code))
      case 'closed':
        this._requests.clear()
        return peer._onNativeClosed()
      default: return unhandled(event)
    }
  }
}

/**
 * Every event type is handled above: a new one in Rust makes this call a type error.
 * @param {never} event
 */
function unhandled (event) {
  throw errCode(new Error('unknown native event ' + JSON.stringify(event)), 'ERR_INTERNAL')
}

module.exports = { NativeBridge }
