'use strict'
// simple-peer's options as the native peer takes them (config.rs's PeerOptions): the
// RTCConfiguration subset webrtc supports, our `opts.native` knobs, and the data channel to
// create locally. Values are checked here only where napi's conversion would be less clear.

/**
 * @param {{ config: object, native?: object, channel?: { label: string, config: object } | null }} peer
 */
function nativeOptions ({ config, native = {}, channel = null }) {
  const options = {
    iceServers: normalizeIceServers(config.iceServers),
    iceTransportPolicy: config.iceTransportPolicy,
    bindAddresses: native.bindAddresses,
    portRange: native.portRange,
    udpMuxPort: native.udpMuxPort,
    nat1to1Ips: native.nat1to1Ips,
    includeLoopback: native.includeLoopback,
    // The native side holds it within its limits; anything but an integer means the default.
    maxMessageSize: Number.isInteger(native.maxMessageSize) ? native.maxMessageSize : undefined,
    iceDisconnectedTimeout: native.iceDisconnectedTimeout,
    iceFailedTimeout: native.iceFailedTimeout,
    iceKeepaliveInterval: native.iceKeepaliveInterval
  }
  if (channel) {
    const { label, config } = channel
    options.channel = {
      label: String(label),
      ordered: config.ordered,
      maxRetransmits: config.maxRetransmits,
      maxPacketLifeTime: config.maxPacketLifeTime,
      protocol: config.protocol,
      negotiated: config.negotiated,
      id: config.id
    }
  }
  return options
}

function normalizeIceServers (servers) {
  if (servers === undefined || servers === null) return []
  if (!Array.isArray(servers)) throw new TypeError('config.iceServers must be an array')
  return servers.map(server => {
    if (!server || (typeof server.urls !== 'string' && !Array.isArray(server.urls))) {
      throw new TypeError('each ICE server needs urls: a string or an array of strings')
    }
    return {
      urls: [].concat(server.urls).map(String),
      username: server.username === undefined ? undefined : String(server.username),
      credential: server.credential === undefined ? undefined : String(server.credential)
    }
  })
}

module.exports = { nativeOptions, normalizeIceServers }
