'use strict'
/*! simple-peer-native. MIT License. The simple-peer 9.11.1 API over a Rust WebRTC stack. */
const { Duplex } = require('stream')
const { randomBytes, randomUUID } = require('crypto')
const { MediaStream, MediaStreamTrack, readMediaFile } = require('./lib/media')
const nonstandard = require('./lib/nonstandard')
const { cutMessages, streamMessages, tooLarge, STREAM_MESSAGE_SIZE } = require('./lib/messages')
const { NativeBridge } = require('./lib/native')
const { nativeOptions } = require('./lib/options')
const { RTCPeerConnection } = require('./lib/peer-connection')
const { errCode, toBuffer, debugEnabled, debugLine } = require('./lib/util')

// simple-peer's MAX_BUFFERED_AMOUNT (64 KiB) lives natively: send() reports backpressure past
// it. So do the message size limits (see lib/messages.js).
const ICECOMPLETE_TIMEOUT = 5 * 1000
// How long to keep looking for the selected candidate pair before connecting without it.
const CANDIDATE_PAIR_ATTEMPTS = 50

// Removes the trickle ICE option when trickle is off, as simple-peer does (its issue #354).
function filterTrickle (sdp) {
  return sdp.replace(/a=ice-options:trickle\s\n/g, '')
}

function checkTrack (track) {
  if (!(track instanceof MediaStreamTrack)) {
    throw errCode(new TypeError('expected a MediaStreamTrack (require(\'simple-peer-native\').MediaStreamTrack)'), 'ERR_INVALID_ARG_TYPE')
  }
}

function checkStream (stream) {
  if (!(stream instanceof MediaStream)) {
    throw errCode(new TypeError('expected a MediaStream (require(\'simple-peer-native\').MediaStream)'), 'ERR_INVALID_ARG_TYPE')
  }
}

// The sender's track stops feeding it.
function detachSender (sender) {
  if (sender.track) sender.track._removeSender(sender.handle)
}

// Live initiators of this process, so an answerer can find its remote among them (see
// _connectAfterPartner). A peer leaves the set when it connects or is destroyed.
const connectingInitiators = new Set()

function isObject (value) {
  return typeof value === 'object' && value !== null
}

/**
 * A WebRTC peer: simple-peer's Duplex stream, backed by the native connection.
 */
class Peer extends Duplex {
  constructor (opts) {
    opts = Object.assign({}, opts, {
      allowHalfOpen: false,
      // Closing follows simple-peer's own rules (see destroy()), not the stream defaults.
      autoDestroy: false,
      emitClose: false
    })
    super(opts)

    this._id = randomBytes(4).toString('hex').slice(0, 7)
    this._debug('new peer %o', opts)

    this.channelName = opts.initiator
      ? opts.channelName || randomBytes(20).toString('hex')
      : null
    this.initiator = opts.initiator || false
    this.channelConfig = opts.channelConfig || Peer.channelConfig
    this.channelNegotiated = this.channelConfig.negotiated
    this.config = Object.assign({}, Peer.config, opts.config)
    this.offerOptions = opts.offerOptions || {}
    this.answerOptions = opts.answerOptions || {}
    this.sdpTransform = opts.sdpTransform || (sdp => sdp)
    this.streams = opts.streams || (opts.stream ? [opts.stream] : [])
    this.trickle = opts.trickle !== undefined ? opts.trickle : true
    this.allowHalfTrickle = opts.allowHalfTrickle !== undefined ? opts.allowHalfTrickle : false
    this.iceCompleteTimeout = opts.iceCompleteTimeout || ICECOMPLETE_TIMEOUT

    this.destroyed = false
    this.destroying = false
    this._connected = false

    this.remoteAddress = undefined
    this.remoteFamily = undefined
    this.remotePort = undefined
    this.localAddress = undefined
    this.localFamily = undefined
    this.localPort = undefined

    this._pcReady = false
    this._channelOpen = false
    this._iceComplete = false
    this._iceCompleteTimer = null
    this._pendingCandidates = []
    this._localCandidates = [] // held until the description they belong to is signalled
    this._remoteDescriptionSent = false

    this._isNegotiating = false
    this._firstNegotiation = true
    this._batchedNegotiation = false
    this._queuedNegotiation = false

    this._cb = null
    this._unacknowledged = 0
    this._timers = new Set()
    this._iceUfrag = null // ours and the remote's: they match an in-process partner
    this._remoteIceUfrag = null

    this._senderMap = new Map() // track -> (stream -> sender), as simple-peer keeps it
    this._nextSenderId = 1
    this._remoteStreams = []
    this._remoteTrackById = new Map() // native id -> MediaStreamTrack
    this._remoteSections = new Map() // mid -> { track, ssrcs }: what the remote sends
    this._requestedTransceivers = new Set() // local track ids the initiator was asked about
    this._connectWaiters = [] // run after this peer's 'connect', or its destroy

    // RTCPeerConnection-shaped, with simple-peer's own handlers on it (see peer-connection.js).
    this._pc = new RTCPeerConnection(this)
    this._pc.oniceconnectionstatechange = () => { this._onIceStateChange() }
    this._pc.onicegatheringstatechange = () => { this._onIceStateChange() }
    this._pc.onconnectionstatechange = () => { this._onConnectionStateChange() }
    this._pc.onsignalingstatechange = () => { this._onSignalingStateChange() }
    this._pc.onicecandidate = event => { this._onIceCandidate(event.candidate) }

    try {
      const channel = this.initiator || this.channelNegotiated
        ? { label: this.channelName, config: this.channelConfig }
        : null
      this._native = new NativeBridge(nativeOptions({ config: this.config, native: opts.native, channel }), this)
    } catch (err) {
      this._native = null
      this.destroy(errCode(err, 'ERR_PC_CONSTRUCTOR'))
      return
    }

    this.streams.forEach(stream => this.addStream(stream))

    this._debug('initial negotiation')
    this._needsNegotiation()

    if (this.initiator) connectingInitiators.add(this)

    this._onFinishBound = () => { this._onFinish() }
    this.once('finish', this._onFinishBound)
  }

  // Stream state is kept by Node; these two flags are simple-peer's own lifecycle.
  get destroyed () { return this._destroyed }
  set destroyed (value) { this._destroyed = value }

  get bufferSize () {
    return (this._native && !this.destroyed && this._native.bufferedAmount) || 0
  }

  get connected () {
    return this._connected && this._channelOpen
  }

  address () {
    return { port: this.localPort, family: this.localFamily, address: this.localAddress }
  }

  signal (data) {
    if (this.destroying) return
    if (this.destroyed) throw errCode(new Error('cannot signal after peer is destroyed'), 'ERR_DESTROYED')
    if (typeof data === 'string') {
      try {
        data = JSON.parse(data)
      } catch (err) {
        data = {}
      }
    }
    if (data === null || data === undefined) {
      throw errCode(new TypeError('signal() needs an object or a JSON string, got ' + data), 'ERR_SIGNALING')
    }
    this._debug('signal()')

    if (data.renegotiate && this.initiator) {
      this._debug('got request to renegotiate')
      // Our own field, from restartIce() on the other side; simple-peer ignores it.
      if (data.iceRestart && this._pc) this._pc.restartIce()
      this._needsNegotiation()
    }
    if (data.transceiverRequest && this.initiator) {
      this._debug('got request for transceiver')
      this.addTransceiver(data.transceiverRequest.kind, data.transceiverRequest.init)
    }
    // An end-of-candidates marker: `candidate: null`, `''`, or an inner candidate line that
    // is null or '' (what some stacks and relays send). Nothing to add, before or after connect.
    const endOfCandidates = (data.type === 'candidate' && (data.candidate === null || data.candidate === '')) ||
      (isObject(data.candidate) && (data.candidate.candidate === null || data.candidate.candidate === ''))
    if (data.candidate && !endOfCandidates) {
      if (this._remoteDescriptionSent) {
        this._addIceCandidate(data.candidate)
      } else {
        this._pendingCandidates.push(data.candidate)
      }
    }
    if (data.sdp) {
      this._native.setRemoteDescription(String(data.type), String(data.sdp))
        .then(({ description, iceUfrag, media }) => {
          if (this.destroyed) return
          this._pc.remoteDescription = { type: description.type, sdp: description.sdp }
          this._remoteIceUfrag = iceUfrag || null
          this._applyRemoteMedia(media)
          if (this.destroyed) return
          if (description.type === 'offer') this._createAnswer()
        })
        .catch(err => this.destroy(errCode(err, 'ERR_SET_REMOTE_DESCRIPTION')))
      // Native requests run in order, so candidates can follow the description at once
      // rather than a round trip later: a remote check arriving in between would make its
      // address a peer-reflexive candidate, and a duplicate of the signalled one.
      this._remoteDescriptionSent = true
      this._pendingCandidates.forEach(candidate => this._addIceCandidate(candidate))
      this._pendingCandidates = []
    }
    if (!data.sdp && !data.candidate && !data.renegotiate && !data.transceiverRequest && !endOfCandidates) {
      this.destroy(errCode(new Error('signal() called with invalid signal data'), 'ERR_SIGNALING'))
    }
  }

  _addIceCandidate (candidate) {
    if (this.destroyed) return
    if (typeof candidate !== 'object' || typeof candidate.candidate !== 'string') {
      this.destroy(errCode(new Error('invalid ICE candidate: ' + JSON.stringify(candidate)), 'ERR_ADD_ICE_CANDIDATE'))
      return
    }
    const mLineIndex = Number.isInteger(candidate.sdpMLineIndex) ? candidate.sdpMLineIndex : null
    const mid = typeof candidate.sdpMid === 'string' ? candidate.sdpMid : null
    this._native.addIceCandidate(candidate.candidate, mid, mLineIndex)
      .then(added => {
        // One the native side found unusable (mDNS, no address), as simple-peer skips it.
        if (!added) console.warn('Ignoring unsupported ICE candidate.')
      }, err => this.destroy(errCode(err, 'ERR_ADD_ICE_CANDIDATE')))
  }

  /**
   * Send text or binary data to the remote peer. Sent before 'connect', it is queued.
   * @param {ArrayBufferView|ArrayBuffer|Buffer|string} chunk
   */
  send (chunk) {
    if (this.destroying) return
    if (this.destroyed) throw errCode(new Error('cannot send after peer is destroyed'), 'ERR_DESTROYED')
    return this._send(chunk)
  }

  // Queues one message; returns whether the native queue has room for more.
  _send (chunk) {
    const limit = this._native.maxMessageSize
    if (typeof chunk === 'string') {
      if (Buffer.byteLength(chunk) > limit) throw tooLarge(Buffer.byteLength(chunk), limit)
      return this._native.sendText(chunk)
    }
    const buffer = toBuffer(chunk)
    if (buffer === null) {
      throw errCode(new TypeError('send() takes a string, Buffer, TypedArray, DataView or ArrayBuffer'), 'ERR_INVALID_ARG_TYPE')
    }
    if (buffer.length > limit) throw tooLarge(buffer.length, limit)
    return this._native.send(buffer)
  }

  // A stream write: bytes with no message boundaries to keep, so big ones are split.
  _sendStreamChunk (chunk) {
    const buffer = this._writableState.objectMode ? null : toBuffer(chunk)
    if (buffer === null || buffer.length <= STREAM_MESSAGE_SIZE) return this._send(chunk)
    let writable = true
    for (const message of streamMessages(buffer)) writable = this._native.send(message)
    return writable
  }

  addTransceiver (kind, init) {
    if (this.destroying) return
    if (this.destroyed) throw errCode(new Error('cannot addTransceiver after peer is destroyed'), 'ERR_DESTROYED')
    this._debug('addTransceiver()')
    if (this.initiator) {
      const direction = init && init.direction !== undefined ? String(init.direction) : null
      this._native.addTransceiver(String(kind), direction)
        .catch(err => this.destroy(errCode(err, 'ERR_ADD_TRANSCEIVER')))
      this._needsNegotiation()
    } else {
      this.emit('signal', { type: 'transceiverRequest', transceiverRequest: { kind, init } })
    }
  }

  /**
   * Adds every track of a MediaStream.
   * @param {MediaStream} stream
   */
  addStream (stream) {
    if (this.destroying) return
    if (this.destroyed) throw errCode(new Error('cannot addStream after peer is destroyed'), 'ERR_DESTROYED')
    this._debug('addStream()')
    checkStream(stream)
    stream.getTracks().forEach(track => this.addTrack(track, stream))
  }

  /**
   * Adds a local track, as part of `stream`.
   * @param {MediaStreamTrack} track
   * @param {MediaStream} stream
   */
  addTrack (track, stream) {
    if (this.destroying) return
    if (this.destroyed) throw errCode(new Error('cannot addTrack after peer is destroyed'), 'ERR_DESTROYED')
    this._debug('addTrack()')
    checkTrack(track)
    checkStream(stream)
    const submap = this._senderMap.get(track) || new Map()
    let sender = submap.get(stream)
    if (sender && sender.removed) {
      throw errCode(new Error('Track has been removed. You should enable/disable tracks that you want to re-add.'), 'ERR_SENDER_REMOVED')
    } else if (sender) {
      throw errCode(new Error('Track has already been added to that stream.'), 'ERR_SENDER_ALREADY_ADDED')
    }
    const id = this._nextSenderId++
    // `handle` is what the track writes through: this peer's native side and the sender's id.
    const added = this._native.addTrack(id, track.id, stream.id, track.kind, track.codec)
    added.catch(err => this.destroy(errCode(err, err.code || 'ERR_ADD_TRANSCEIVER')))
    sender = { id, track, codec: track.codec, handle: { native: this._native, senderId: id, added }, removed: false }
    submap.set(stream, sender)
    this._senderMap.set(track, submap)
    track._addSender(sender.handle)
    this._needsNegotiation()
  }

  /**
   * Sends `newTrack`'s media where `oldTrack`'s went, without renegotiating. The new track
   * must have the old one's codec (the sender's codec is negotiated).
   */
  replaceTrack (oldTrack, newTrack, stream) {
    if (this.destroying) return
    if (this.destroyed) throw errCode(new Error('cannot replaceTrack after peer is destroyed'), 'ERR_DESTROYED')
    this._debug('replaceTrack()')
    const submap = this._senderMap.get(oldTrack)
    const sender = submap ? submap.get(stream) : null
    if (!sender) throw errCode(new Error('Cannot replace track that was never added.'), 'ERR_TRACK_NOT_ADDED')
    if (newTrack) {
      checkTrack(newTrack)
      this._senderMap.set(newTrack, submap)
    }
    if (newTrack && (newTrack.kind !== oldTrack.kind || newTrack.codec !== sender.codec)) {
      this.destroy(errCode(new Error(`replaceTrack needs a ${sender.codec} track, got ${newTrack.kind}/${newTrack.codec}`), 'ERR_UNSUPPORTED_REPLACETRACK'))
      return
    }
    detachSender(sender)
    sender.track = newTrack
    if (newTrack) newTrack._addSender(sender.handle)
  }

  /**
   * Removes a track added with `stream`; its sender stays, muted (as in browsers).
   */
  removeTrack (track, stream) {
    if (this.destroying) return
    if (this.destroyed) throw errCode(new Error('cannot removeTrack after peer is destroyed'), 'ERR_DESTROYED')
    this._debug('removeSender()')
    const submap = this._senderMap.get(track)
    const sender = submap ? submap.get(stream) : null
    if (!sender) throw errCode(new Error('Cannot remove track that was never added.'), 'ERR_TRACK_NOT_ADDED')
    sender.removed = true
    detachSender(sender)
    this._native.removeTrack(sender.id)
      .catch(err => this.destroy(errCode(err, 'ERR_REMOVE_TRACK')))
    this._needsNegotiation()
  }

  /** Removes every track of a stream. */
  removeStream (stream) {
    if (this.destroying) return
    if (this.destroyed) throw errCode(new Error('cannot removeStream after peer is destroyed'), 'ERR_DESTROYED')
    this._debug('removeSenders()')
    checkStream(stream)
    stream.getTracks().forEach(track => this.removeTrack(track, stream))
  }

  _needsNegotiation () {
    this._debug('_needsNegotiation')
    if (this._batchedNegotiation) return // batch synchronous renegotiations
    this._batchedNegotiation = true
    queueMicrotask(() => {
      this._batchedNegotiation = false
      if (this.initiator || !this._firstNegotiation) {
        this._debug('starting batched negotiation')
        this.negotiate()
      } else {
        this._debug('non-initiator initial negotiation request discarded')
      }
      this._firstNegotiation = false
    })
  }

  negotiate () {
    if (this.destroying) return
    if (this.destroyed) throw errCode(new Error('cannot negotiate after peer is destroyed'), 'ERR_DESTROYED')

    if (this._isNegotiating) {
      this._queuedNegotiation = true
      this._debug('already negotiating, queueing')
    } else if (this.initiator) {
      this._debug('start negotiation')
      // simple-peer waits setTimeout(0), at least a millisecond of every connect; the next
      // turn of the event loop is as asynchronous. _createOffer() checks for destroy().
      setImmediate(() => this._createOffer())
    } else {
      this._debug('requesting negotiation from initiator')
      this.emit('signal', { type: 'renegotiate', renegotiate: true })
    }
    this._isNegotiating = true
  }

  // Not in simple-peer: what `peer._pc.restartIce()` and `negotiate()` do in a browser. The
  // initiator offers fresh ICE credentials; the other side asks it to, with a renegotiate
  // signal that also says `iceRestart: true` (simple-peer's initiator negotiates without a
  // restart).
  restartIce () {
    if (this.destroying) return
    if (this.destroyed) throw errCode(new Error('cannot restart ICE after peer is destroyed'), 'ERR_DESTROYED')
    if (this.initiator) {
      this._pc.restartIce()
      return this.negotiate()
    }
    // Sent even mid-negotiation: the initiator queues the offer it asks for.
    this._isNegotiating = true
    this.emit('signal', { type: 'renegotiate', renegotiate: true, iceRestart: true })
  }

  destroy (err) {
    this._destroy(err, () => {})
    return this
  }

  _destroy (err, cb) {
    if (this.destroyed || this.destroying) return
    this.destroying = true
    this._debug('destroying (error: %s)', err && (err.message || err))

    queueMicrotask(() => { // let events concurrent with the call to destroy() fire first
      this.destroyed = true
      this.destroying = false
      this._debug('destroy (error: %s)', err && (err.message || err))

      this.readable = this.writable = false
      if (!this._readableState.ended) this.push(null)
      if (!this._writableState.finished) this.end()

      this._connected = false
      this._pcReady = false
      this._channelOpen = false
      this._cb = null
      this._timers.forEach(timer => clearTimeout(timer))
      this._timers.clear()
      this._iceCompleteTimer = null

      if (this._onFinishBound) this.removeListener('finish', this._onFinishBound)
      this._onFinishBound = null

      if (this._native) this._native.close()
      this._releaseMedia()
      // As simple-peer: the handlers come off and _pc is gone once destroyed.
      this._pc._closed()
      this._pc.oniceconnectionstatechange = null
      this._pc.onicegatheringstatechange = null
      this._pc.onconnectionstatechange = null
      this._pc.onsignalingstatechange = null
      this._pc.onicecandidate = null
      this._pc = null

      connectingInitiators.delete(this)
      this._releaseConnectWaiters()
      if (err) this.emit('error', err)
      this.emit('close')
      cb()
    })
  }

  _read () {
    if (this._unacknowledged > 0 && this._native && !this.destroyed) {
      this._native.acknowledge(this._unacknowledged)
      this._unacknowledged = 0
    }
  }

  // Before 'connect' too: the native queue holds data until the channel opens, in the
  // order it was written or sent, under the same backpressure.
  _write (chunk, encoding, cb) {
    if (this.destroyed) return cb(errCode(new Error('cannot write after peer is destroyed'), 'ERR_DATA_CHANNEL'))
    let writable
    try {
      writable = this._sendStreamChunk(chunk)
    } catch (err) {
      return this.destroy(errCode(err, 'ERR_DATA_CHANNEL'))
    }
    if (writable) {
      cb(null)
    } else {
      this._debug('start backpressure: bufferedAmount %d', this.bufferSize)
      this._cb = cb
    }
  }

  // The writable side finished: once everything written has reached the remote, close.
  // (simple-peer waits a fixed second instead; waiting for the acknowledgement loses nothing.)
  _onFinish () {
    if (this.destroyed) return
    const destroyWhenFlushed = () => {
      if (this.destroyed) return
      this._native.flush().then(() => this.destroy(), () => this.destroy())
    }
    if (this._connected) destroyWhenFlushed()
    else this.once('connect', destroyWhenFlushed)
  }

  _startIceCompleteTimeout () {
    if (this.destroyed) return
    if (this._iceCompleteTimer) return
    this._debug('started iceComplete timeout')
    this._iceCompleteTimer = this._setTimeout(() => {
      if (!this._iceComplete) {
        this._iceComplete = true
        this._debug('iceComplete timeout completed')
        this.emit('iceTimeout')
        this.emit('_iceComplete')
      }
    }, this.iceCompleteTimeout)
  }

  // Natively, creating a description also sets it: see _onLocalDescription().
  _createOffer () {
    if (this.destroyed) return
    const iceRestart = this._pc._takeIceRestart() || Boolean(this.offerOptions.iceRestart)
    this._native.createOffer(iceRestart)
      .then(reply => this._onLocalDescription(reply))
      .catch(err => this._onDescriptionError(err, 'ERR_CREATE_OFFER'))
  }

  _createAnswer () {
    if (this.destroyed) return
    this._native.createAnswer()
      .then(reply => {
        this._onLocalDescription(reply)
        return this._requestMissingTransceivers()
      })
      .catch(err => this._onDescriptionError(err, 'ERR_CREATE_ANSWER'))
  }

  // Native failures carry their code (ERR_SET_LOCAL_DESCRIPTION included); anything else,
  // such as a throwing sdpTransform, is reported as simple-peer does.
  _onDescriptionError (err, code) {
    this.destroy(err && err.code ? err : errCode(err, code))
  }

  // A track added on the answering side needs an m-line only the initiator can offer: ask
  // for a transceiver of its kind, once per track, as simple-peer does.
  _requestMissingTransceivers () {
    if (this.destroyed || this.initiator) return
    return this._native.missingTransceivers().then(missing => {
      for (const { kind, trackId } of missing) {
        if (this._requestedTransceivers.has(trackId)) continue
        this._requestedTransceivers.add(trackId)
        this.addTransceiver(kind)
      }
    })
  }

  // webrtc 0.21 refuses a local description that differs from the one it created, so the
  // description is set as created and sdpTransform shapes what the remote is sent.
  _onLocalDescription ({ description, iceUfrag }) {
    if (this.destroyed) return
    this._pc.localDescription = description
    this._iceUfrag = iceUfrag || null
    const sendDescription = current => {
      if (this.destroyed) return
      this._pc.localDescription = current
      let sdp = current.sdp
      if (!this.trickle && !this.allowHalfTrickle) sdp = filterTrickle(sdp)
      sdp = this.sdpTransform(sdp)
      this._debug('signal')
      this.emit('signal', { type: description.type, sdp })
      const candidates = this._localCandidates
      this._localCandidates = null
      if (candidates) candidates.forEach(candidate => this._signalCandidate(candidate))
    }
    if (this.trickle) return sendDescription(description)
    // Without trickle the description goes once it carries every candidate.
    const sendComplete = () => {
      if (this.destroyed) return
      this._native.localDescription()
        .then(reply => reply.description, () => null)
        .then(current => sendDescription(current || description))
        .catch(err => this._onDescriptionError(err, description.type === 'offer' ? 'ERR_CREATE_OFFER' : 'ERR_CREATE_ANSWER'))
    }
    if (this._iceComplete) sendComplete()
    else this.once('_iceComplete', sendComplete)
  }

  getStats (cb) {
    if (this.destroyed || !this._native) return cb(errCode(new Error('cannot getStats after peer is destroyed'), 'ERR_DESTROYED'))
    this._native.getStats().then(reports => cb(null, reports), err => cb(err))
  }

  _maybeReady () {
    this._debug('maybeReady pc %s channel %s', this._pcReady, this._channelOpen)
    if (this._connected || this._connecting || !this._pcReady || !this._channelOpen) return
    this._connecting = true
    if (this.remoteAddress !== undefined) return this._connectAfterPartner()
    this._findCandidatePair(CANDIDATE_PAIR_ATTEMPTS)
  }

  // Learns the addresses of the selected candidate pair, then announces 'connect'.
  _findCandidatePair (attemptsLeft) {
    if (this.destroyed) return
    this._native.selectedCandidatePair().catch(() => null).then(pair => {
      if (this.destroyed) return
      if (!pair && attemptsLeft > 0) {
        this._setTimeout(() => this._findCandidatePair(attemptsLeft - 1), 100)
        return
      }
      if (pair) this._setAddresses(pair)
      this._connectAfterPartner()
    })
  }

  // Browsers and libwebrtc open the initiator's channel first: the answerer learns of it
  // from the initiator's DCEP message. Natively the two opens race, which only code holding
  // both peers in one process can see, and such code (simple-peer's own tests among it)
  // relies on the order. So an answerer whose remote is an initiator of this process,
  // matched by the ICE ufrag of its offer, announces 'connect' only after that initiator has.
  _connectAfterPartner () {
    const partner = this.initiator ? null : this._localPartner()
    if (partner) {
      this._debug('connect after the initiator in this process')
      partner._connectWaiters.push(() => this._onConnect())
    } else {
      this._onConnect()
    }
  }

  // The initiator whose offer this answerer took: its ufrag is random and its own (the
  // initiator's reply to our answer can still be on its way, so only the offer is compared).
  _localPartner () {
    if (!this._remoteIceUfrag) return null
    for (const peer of connectingInitiators) {
      if (peer._pc && peer._iceUfrag === this._remoteIceUfrag) return peer
    }
    return null
  }

  _onConnect () {
    if (this.destroyed) return
    this._connecting = false
    this._connected = true
    connectingInitiators.delete(this)
    this._debug('connect')
    try {
      this.emit('connect')
    } finally {
      this._releaseConnectWaiters() // a throwing listener must not strand the answerer
    }
  }

  _releaseConnectWaiters () {
    const waiters = this._connectWaiters.splice(0)
    waiters.forEach(waiter => waiter())
  }

  _setAddresses (pair) {
    this.localAddress = pair.localAddress
    this.localPort = pair.localPort
    this.localFamily = pair.localAddress.includes(':') ? 'IPv6' : 'IPv4'
    this.remoteAddress = pair.remoteAddress
    this.remotePort = pair.remotePort
    this.remoteFamily = pair.remoteAddress.includes(':') ? 'IPv6' : 'IPv4'
    this._debug('connect local: %s:%s remote: %s:%s',
      this.localAddress, this.localPort, this.remoteAddress, this.remotePort)
  }

  // What the native side reports (lib/native.js calls these).
  _onNativeCandidate (candidate) {
    if (this._pc) this._pc._fire('icecandidate', { candidate })
  }

  _onNativeState (name, state) {
    if (!this._pc) return
    this._pc._setState(name, state, name.toLowerCase() + 'change')
    // Gathering is complete: browsers then fire icecandidate with a null candidate.
    if (name === 'iceGatheringState' && state === 'complete') this._pc._fire('icecandidate', { candidate: null })
  }

  _onNativeError (err) {
    this.destroy(err)
  }

  _onNativeClosed () {
    this._native = null
  }

  // Browsers announce remote tracks while applying the remote description, before any
  // packet: so does this, from what each media section says the remote sends (read natively,
  // signal::remote_media). A track keeps its object across renegotiations while its section
  // keeps sending the same sender's track (msid), and ends when the section stops.
  _applyRemoteMedia (sections) {
    for (const section of sections || []) {
      const current = this._remoteSections.get(section.mid)
      const sameTrack = current && (!section.trackId || section.trackId === current.track.id)
      // webrtc 0.21 marks a section whose track was removed sendonly, naming no track: a
      // section that names none (browsers always do) is announced by its first packet.
      const sending = section.sending && (section.trackId !== null || section.ssrcs.length > 0)
      if (!sending || (current && !sameTrack)) this._removeRemoteSection(section.mid)
      if (!sending) continue
      if (sameTrack) {
        current.ssrcs = section.ssrcs
        continue
      }
      const track = MediaStreamTrack._remote({ kind: section.kind, codec: section.codec, trackId: section.trackId || randomUUID() }, null)
      this._remoteSections.set(section.mid, { track, ssrcs: section.ssrcs })
      this._announceTrack(track, section.streamIds)
      if (this.destroyed) return
    }
  }

  _removeRemoteSection (mid) {
    const section = this._remoteSections.get(mid)
    if (!section) return
    this._remoteSections.delete(mid)
    for (const [id, track] of this._remoteTrackById) {
      if (track === section.track) this._remoteTrackById.delete(id)
    }
    for (const stream of this._remoteStreams) stream.removeTrack(section.track)
    section.track._end()
  }

  // A remote track's first packet: its packets and frames go to the track announced for
  // the section that declared its SSRC (or carries its track id). One the description did
  // not announce (a stack that declares neither) is announced now.
  _onTrack (id, info) {
    if (this.destroyed) return
    const sections = [...this._remoteSections.values()]
    const section = sections.find(candidate => candidate.ssrcs.includes(info.ssrc)) ||
      sections.find(candidate => candidate.track.id === info.trackId && !candidate.track._source)
    const track = section ? section.track : MediaStreamTrack._remote(Object.assign({ id }, info), this._native)
    track._setSource({ native: this._native, id })
    if (info.codec) track.codec = info.codec
    this._remoteTrackById.set(id, track)
    if (!section) this._announceTrack(track, info.streamIds)
  }

  // One 'track' per stream the track belongs to, and one 'stream' per new stream id, as
  // simple-peer emits them from a browser's ontrack.
  _announceTrack (track, streamIds) {
    if (streamIds.length === 0) streamIds = [track.id]
    for (const streamId of streamIds) {
      let stream = this._remoteStreams.find(remoteStream => remoteStream.id === streamId)
      const isNew = !stream
      if (isNew) stream = new MediaStream([], streamId)
      stream.addTrack(track)
      this._debug('on track')
      this._pc._fire('track', { track, streams: [stream], receiver: { track } })
      this.emit('track', track, stream)
      if (this.destroyed) return
      if (!isNew) continue // one 'stream' event per stream, however many tracks it has
      this._remoteStreams.push(stream)
      queueMicrotask(() => {
        this._debug('on stream')
        this.emit('stream', stream)
      })
    }
  }

  _onRemoteMedia (id, kind, item, dropped) {
    const track = this._remoteTrackById.get(id)
    if (!track || this.destroyed) return
    if (dropped !== undefined) track.decodedDropped = dropped
    track.emit(kind, item)
  }

  _onRemoteTrackEnded (id) {
    const track = this._remoteTrackById.get(id)
    this._remoteTrackById.delete(id)
    if (track) track._end()
  }

  // Local tracks stop feeding this peer; remote tracks end.
  _releaseMedia () {
    for (const submap of this._senderMap.values()) submap.forEach(detachSender)
    this._senderMap.clear()
    for (const track of this._remoteTrackById.values()) track._end()
    this._remoteTrackById.clear()
    for (const { track } of this._remoteSections.values()) track._end()
    this._remoteSections.clear()
  }

  // A batch of received messages (see lib/messages.js).
  _onMessages (pieces, sizes) {
    if (this.destroyed) return
    const asText = this._readableState.objectMode
    let wantsMore = true
    const bytes = cutMessages(pieces, sizes, (message, isText) => {
      wantsMore = this.push(asText && isText ? message.toString() : message)
      return !this.destroyed
    })
    if (this.destroyed) return
    // Acknowledged bytes let Rust read on; withheld, they stop it (see _read).
    if (wantsMore) this._native.acknowledge(bytes)
    else this._unacknowledged += bytes
  }

  _onChannelBufferedAmountLow () {
    if (this.destroyed || !this._cb) return
    this._debug('ending backpressure: bufferedAmount %d', this.bufferSize)
    const cb = this._cb
    this._cb = null
    cb(null)
  }

  // `pair`: the selected candidate pair, looked up natively before the event, so 'connect'
  // can follow at once (the initiator's channel opens first, and so does its 'connect').
  _onChannelOpen (label, pair) {
    if (this._connected || this.destroyed) return
    this._debug('on channel open')
    this.channelName = label
    this._channelOpen = true
    if (pair) this._setAddresses(pair)
    this._maybeReady()
  }

  _onChannelClose () {
    if (this.destroyed) return
    this._debug('on channel close')
    // A failed transport takes the channel down with it. The failure is reported instead, a
    // tick later, with its own code (_onConnectionStateChange), as a browser reports it.
    if (this._pc && this._pc.connectionState === 'failed') return
    this.destroy()
  }

  _onIceCandidate (candidate) {
    if (this.destroyed) return
    if (candidate && this.trickle) {
      if (this._localCandidates) this._localCandidates.push(candidate)
      else this._signalCandidate(candidate)
    } else if (!candidate && !this._iceComplete) {
      this._iceComplete = true
      this.emit('_iceComplete')
    }
    if (candidate) this._startIceCompleteTimeout()
  }

  _signalCandidate (candidate) {
    if (this.destroyed) return
    this.emit('signal', { type: 'candidate', candidate })
  }

  _onIceStateChange () {
    if (this.destroyed) return
    const iceConnectionState = this._pc.iceConnectionState
    const iceGatheringState = this._pc.iceGatheringState
    this._debug('iceStateChange (connection: %s) (gathering: %s)', iceConnectionState, iceGatheringState)
    this.emit('iceStateChange', iceConnectionState, iceGatheringState)

    if (iceConnectionState === 'connected' || iceConnectionState === 'completed') {
      this._pcReady = true
      this._maybeReady()
    }
    if (iceConnectionState === 'failed') {
      this.destroy(errCode(new Error('Ice connection failed.'), 'ERR_ICE_CONNECTION_FAILURE'))
    }
    if (iceConnectionState === 'closed') {
      this.destroy(errCode(new Error('Ice connection closed.'), 'ERR_ICE_CONNECTION_CLOSED'))
    }
  }

  _onConnectionStateChange () {
    if (this.destroyed) return
    if (this._pc.connectionState === 'failed') {
      // webrtc reports this before the ICE state that caused it; browsers the other way
      // round. A tick lets ICE's 'failed' (ERR_ICE_CONNECTION_FAILURE) speak first.
      this._setTimeout(() => {
        if (this.destroyed || this.destroying) return
        this.destroy(errCode(new Error('Connection failed.'), 'ERR_CONNECTION_FAILURE'))
      }, 0)
    }
  }

  _onSignalingStateChange () {
    if (this.destroyed) return
    const state = this._pc.signalingState
    if (state === 'stable') {
      this._isNegotiating = false
      if (this._queuedNegotiation) {
        this._debug('flushing negotiation queue')
        this._queuedNegotiation = false
        this._needsNegotiation()
      } else {
        this._debug('negotiated')
        this.emit('negotiated')
      }
    }
    this._debug('signalingStateChange %s', state)
    this.emit('signalingStateChange', state)
  }

  // A timer that destroy() clears, so a destroyed peer never holds the event loop open.
  _setTimeout (fn, ms) {
    const timer = setTimeout(() => {
      this._timers.delete(timer)
      fn()
    }, ms)
    this._timers.add(timer)
    return timer
  }

  _debug (...args) {
    if (debugEnabled) debugLine(this._id, args)
  }
}

Peer.WEBRTC_SUPPORT = true

/**
 * Defaults for every instance, as in simple-peer: override per peer with opts.config and
 * opts.channelConfig.
 */
Peer.config = {
  iceServers: [
    {
      urls: [
        'stun:stun.l.google.com:19302',
        'stun:global.stun.twilio.com:3478'
      ]
    }
  ],
  sdpSemantics: 'unified-plan'
}

Peer.channelConfig = {}

Peer.MediaStream = MediaStream
Peer.MediaStreamTrack = MediaStreamTrack
Peer.readMediaFile = readMediaFile
/** wrtc's raw-media API: RTCAudioSource/Sink, RTCVideoSource/Sink, i420ToRgba, rgbaToI420. */
Peer.nonstandard = nonstandard

module.exports = Peer
