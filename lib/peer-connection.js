'use strict'
// `peer._pc`: what simple-peer users reach for when the wrapper lacks something, shaped as
// an RTCPeerConnection and backed by the native peer. The Peer sets its own on… handlers on
// it, as simple-peer does on a real RTCPeerConnection, and native events reach those
// handlers and any addEventListener() listeners through it.

const HANDLED_EVENTS = [
  'connectionstatechange', 'iceconnectionstatechange', 'icegatheringstatechange',
  'signalingstatechange', 'icecandidate', 'track', 'datachannel', 'negotiationneeded'
]

class PeerConnectionEvent extends Event {
  constructor (type, fields) {
    super(type)
    Object.assign(this, fields)
  }
}

class RTCPeerConnection extends EventTarget {
  constructor (peer) {
    super()
    this._peer = peer
    this.connectionState = 'new'
    this.iceConnectionState = 'new'
    this.iceGatheringState = 'new'
    this.signalingState = 'stable'
    this.localDescription = null
    this.remoteDescription = null
    this._iceRestartWanted = false
    for (const type of HANDLED_EVENTS) this['on' + type] = null
  }

  get currentLocalDescription () { return this.localDescription }
  get currentRemoteDescription () { return this.remoteDescription }

  /** The W3C shape: a Map of stats objects by id. */
  getStats () {
    return new Promise((resolve, reject) => {
      this._peer.getStats((err, reports) => {
        if (err) return reject(err)
        resolve(new Map(reports.map(report => [report.id, report])))
      })
    })
  }

  /** One per track added to the peer: `{ track }`, with `track` null once it is removed. */
  getSenders () {
    const senders = []
    for (const submap of this._peer._senderMap.values()) {
      for (const sender of submap.values()) {
        senders.push(sender.removed ? { track: null } : { track: sender.track })
      }
    }
    return senders
  }

  /** One per remote track, from its announcement on: `{ track }`. */
  getReceivers () {
    const tracks = new Set([...this._peer._remoteSections.values()].map(section => section.track))
    for (const track of this._peer._remoteTrackById.values()) tracks.add(track)
    return [...tracks].map(track => ({ track }))
  }

  /** Senders and receivers as transceivers: `{ mid, sender, receiver, direction }`. */
  getTransceivers () {
    return [
      ...this.getSenders().map(sender => ({ mid: null, sender, receiver: { track: null }, direction: sender.track ? 'sendrecv' : 'recvonly' })),
      ...this.getReceivers().map(receiver => ({ mid: null, sender: { track: null }, receiver, direction: 'recvonly' }))
    ]
  }

  /** The next offer this peer makes restarts ICE (negotiate() makes one). */
  restartIce () {
    this._iceRestartWanted = true
  }

  close () {
    this._peer.destroy()
  }

  // The offer options for the next offer: a restart asked for with restartIce() is used once.
  _takeIceRestart () {
    const wanted = this._iceRestartWanted
    this._iceRestartWanted = false
    return wanted
  }

  _setState (name, value, type) {
    this[name] = value
    this._fire(type)
  }

  _closed () {
    this.connectionState = 'closed'
    this.iceConnectionState = 'closed'
    this.signalingState = 'closed'
  }

  _fire (type, fields = {}) {
    const event = new PeerConnectionEvent(type, fields)
    const handler = this['on' + type]
    if (typeof handler === 'function') handler.call(this, event)
    this.dispatchEvent(event)
  }
}

module.exports = { RTCPeerConnection }
