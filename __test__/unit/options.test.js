'use strict'
// simple-peer's options translated into the native peer's (config.rs's PeerOptions).
const test = require('node:test')
const assert = require('node:assert')
const { nativeOptions, normalizeIceServers } = require('../../lib/options')

test('ICE servers take simple-peer\'s shapes: urls as a string or a list', () => {
  assert.deepStrictEqual(normalizeIceServers(undefined), [])
  assert.deepStrictEqual(normalizeIceServers([{ urls: 'turn:10.0.0.1:3478', username: 'u', credential: 5 }]), [
    { urls: ['turn:10.0.0.1:3478'], username: 'u', credential: '5' }
  ])
  assert.deepStrictEqual(normalizeIceServers([{ urls: ['stun:10.0.0.1', 'stun:10.0.0.2'] }]), [
    { urls: ['stun:10.0.0.1', 'stun:10.0.0.2'], username: undefined, credential: undefined }
  ])
  assert.throws(() => normalizeIceServers({}), TypeError)
  assert.throws(() => normalizeIceServers([{ url: 'stun:x' }]), TypeError)
  assert.throws(() => normalizeIceServers([null]), TypeError)
})

test('opts.native passes through; maxMessageSize only as an integer', () => {
  const native = { udpMuxPort: 4000, bindAddresses: ['10.0.0.1'], maxMessageSize: 65536, iceFailedTimeout: 9000 }
  const options = nativeOptions({ config: { iceServers: [], iceTransportPolicy: 'relay' }, native })
  assert.strictEqual(options.udpMuxPort, 4000)
  assert.deepStrictEqual(options.bindAddresses, ['10.0.0.1'])
  assert.strictEqual(options.maxMessageSize, 65536)
  assert.strictEqual(options.iceFailedTimeout, 9000)
  assert.strictEqual(options.iceTransportPolicy, 'relay')
  assert.strictEqual(options.channel, undefined)
  for (const maxMessageSize of [1.5, '65536', null, NaN]) {
    assert.strictEqual(nativeOptions({ config: {}, native: { maxMessageSize } }).maxMessageSize, undefined)
  }
})

test('the local channel carries simple-peer\'s channelConfig', () => {
  const config = { ordered: false, maxRetransmits: 2, negotiated: true, id: 5, protocol: 'p' }
  const options = nativeOptions({ config: {}, channel: { label: 'chat', config } })
  assert.deepStrictEqual(options.channel, {
    label: 'chat', ordered: false, maxRetransmits: 2, maxPacketLifeTime: undefined, protocol: 'p', negotiated: true, id: 5
  })
})
