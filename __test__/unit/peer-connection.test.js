'use strict'
// peer._pc's own behaviour: states and events as an RTCPeerConnection has them.
const test = require('node:test')
const assert = require('node:assert')
const { RTCPeerConnection } = require('../../lib/peer-connection')

test('a state change sets the state, then runs the on… handler and the listeners', () => {
  const pc = new RTCPeerConnection({})
  const seen = []
  pc.oniceconnectionstatechange = function (event) { seen.push(['handler', this.iceConnectionState, event.type]) }
  pc.addEventListener('iceconnectionstatechange', event => seen.push(['listener', event.target.iceConnectionState]))
  pc._setState('iceConnectionState', 'checking', 'iceconnectionstatechange')
  assert.deepStrictEqual(seen, [['handler', 'checking', 'iceconnectionstatechange'], ['listener', 'checking']])
})

test('events carry their fields, and restartIce() marks one offer only', () => {
  const pc = new RTCPeerConnection({})
  let candidate
  pc.onicecandidate = event => { candidate = event.candidate }
  pc._fire('icecandidate', { candidate: null })
  assert.strictEqual(candidate, null)
  assert.strictEqual(pc._takeIceRestart(), false)
  pc.restartIce()
  assert.strictEqual(pc._takeIceRestart(), true)
  assert.strictEqual(pc._takeIceRestart(), false)
  pc._closed()
  assert.deepStrictEqual([pc.connectionState, pc.iceConnectionState, pc.signalingState], ['closed', 'closed', 'closed'])
})
