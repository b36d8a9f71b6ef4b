'use strict'
// The shape shared by simple-peer's binary.js and object-mode.js cases: once both peers are
// connected, peer1 sends one message, peer2 checks it and answers, peer1 checks the answer,
// and both are destroyed (6 assertions).
const { Peer, config, plan } = require('./common')

function exchange ({ opts = {}, first, second, check }) {
  const t = plan(6)
  const peer1 = new Peer(Object.assign({ config, initiator: true }, opts))
  const peer2 = new Peer(Object.assign({ config }, opts))
  peer1.on('signal', data => peer2.signal(data))
  peer2.on('signal', data => peer1.signal(data))
  peer1.on('connect', tryTest)
  peer2.on('connect', tryTest)

  function tryTest () {
    if (!peer1.connected || !peer2.connected) return
    peer1.send(first.send)
    peer2.on('data', data => {
      check(t, data, first.expected)
      peer2.send(second.send)
      peer1.on('data', data => {
        check(t, data, second.expected)
        peer1.on('close', () => { t.pass('peer1 destroyed') })
        peer1.destroy()
        peer2.on('close', () => { t.pass('peer2 destroyed') })
        peer2.destroy()
      })
    })
  }
  return t.done
}

// The checks binary data gets: a Buffer with the bytes sent.
function isBuffer (t, data, expected) {
  t.ok(Buffer.isBuffer(data), 'data is Buffer')
  t.deepEqual(data, expected, 'got correct message')
}

module.exports = { exchange, isBuffer }
