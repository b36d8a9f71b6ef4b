'use strict'
// simple-peer 9.11.1 test/basic.js, case by case, against this package.
const test = require('node:test')
const { Peer, config, loadFrames, getMediaStream, stopMedia, plan } = require('./common')

test.before(loadFrames)
test.after(stopMedia)

// Deviates on purpose: Node has WebRTC here, so WEBRTC_SUPPORT is true (documented).
test('detect WebRTC support', () => {
  const t = plan()
  t.equal(Peer.WEBRTC_SUPPORT, true, 'builtin webrtc support')
  t.end()
  return t.done
})

// The original skips this in Node, where it needs the wrtc option; here it needs nothing.
test('create peer without options', async () => {
  const t = plan(1)
  const saved = Peer.config
  Peer.config = config // the default STUN servers would be a packet beyond this machine
  let peer
  try {
    t.doesNotThrow(() => { peer = new Peer() })
  } finally {
    Peer.config = saved
  }
  peer.destroy()
  await t.done
})

// Deviates on purpose: opts.wrtc is ignored (documented), so a wrtc without an
// RTCPeerConnection changes nothing; a connection that cannot be made still gives 'error',
// here with ERR_PC_CONSTRUCTOR from a configuration the native side refuses.
test('can detect error when RTCPeerConstructor throws', async () => {
  const t = plan(3)
  const ignored = new Peer({ config, initiator: true, wrtc: { RTCPeerConnection: null } })
  ignored.once('signal', data => {
    t.equal(data.type, 'offer', 'opts.wrtc is ignored: the peer makes its offer')
    ignored.destroy()
  })
  const peer = new Peer({ config: { iceServers: [{ urls: 'not a url' }] } })
  peer.once('error', err => {
    t.pass('got error event')
    t.equal(err.code, 'ERR_PC_CONSTRUCTOR')
    peer.destroy()
  })
  await t.done
})

test('signal event gets emitted', async () => {
  const t = plan(2)
  const peer = new Peer({ config, initiator: true })
  peer.once('signal', () => {
    t.pass('got signal event')
    peer.on('close', () => { t.pass('peer destroyed') })
    peer.destroy()
  })
  await t.done
})

for (const [name, extra] of [
  ['signal event does not get emitted by non-initiator', () => ({})],
  ['signal event does not get emitted by non-initiator with stream', () => ({ stream: getMediaStream() })]
]) {
  test(name, async () => {
    const t = plan()
    const peer = new Peer(Object.assign({ config, initiator: false }, extra()))
    peer.once('signal', () => {
      t.fail('got signal event')
      peer.destroy()
    })
    setTimeout(() => {
      t.pass('did not get signal after 1000ms')
      t.end()
    }, 1000)
    await t.done
    peer.destroy()
  })
}

test('data send/receive text', async () => {
  const t = plan(10)
  const peer1 = new Peer({ config, initiator: true })
  const peer2 = new Peer({ config })

  let numSignal1 = 0
  peer1.on('signal', data => {
    numSignal1 += 1
    peer2.signal(data)
  })
  let numSignal2 = 0
  peer2.on('signal', data => {
    numSignal2 += 1
    peer1.signal(data)
  })

  peer1.on('connect', tryTest)
  peer2.on('connect', tryTest)

  function tryTest () {
    if (!peer1.connected || !peer2.connected) return
    t.ok(numSignal1 >= 1)
    t.ok(numSignal2 >= 1)
    t.equal(peer1.initiator, true, 'peer1 is initiator')
    t.equal(peer2.initiator, false, 'peer2 is not initiator')

    peer1.send('sup peer2')
    peer2.on('data', data => {
      t.ok(Buffer.isBuffer(data), 'data is Buffer')
      t.equal(data.toString(), 'sup peer2', 'got correct message')

      peer2.send('sup peer1')
      peer1.on('data', data => {
        t.ok(Buffer.isBuffer(data), 'data is Buffer')
        t.equal(data.toString(), 'sup peer1', 'got correct message')

        peer1.on('close', () => { t.pass('peer1 destroyed') })
        peer1.destroy()
        peer2.on('close', () => { t.pass('peer2 destroyed') })
        peer2.destroy()
      })
    })
  }
  await t.done
})

test('sdpTransform function is called', async () => {
  const t = plan(3)
  const peer1 = new Peer({ config, initiator: true })
  const peer2 = new Peer({ config, sdpTransform })

  function sdpTransform (sdp) {
    t.equal(typeof sdp, 'string', 'got a string as SDP')
    setTimeout(() => {
      peer1.on('close', () => { t.pass('peer1 destroyed') })
      peer1.destroy()
      peer2.on('close', () => { t.pass('peer2 destroyed') })
      peer2.destroy()
    }, 0)
    return sdp
  }

  peer1.on('signal', data => peer2.signal(data))
  peer2.on('signal', data => peer1.signal(data))
  await t.done
})

for (const [name, constraints] of [
  ['old constraint formats are used', { mandatory: { OfferToReceiveAudio: true, OfferToReceiveVideo: true } }],
  ['new constraint formats are used', { offerToReceiveAudio: true, offerToReceiveVideo: true }]
]) {
  test(name, async () => {
    const t = plan(3)
    const peer1 = new Peer({ config, initiator: true, constraints })
    const peer2 = new Peer({ config, constraints })
    peer1.on('signal', data => peer2.signal(data))
    peer2.on('signal', data => peer1.signal(data))
    peer1.on('connect', () => {
      t.pass('peers connected')
      peer1.on('close', () => { t.pass('peer1 destroyed') })
      peer1.destroy()
      peer2.on('close', () => { t.pass('peer2 destroyed') })
      peer2.destroy()
    })
    await t.done
  })
}

test('ensure remote address and port are available right after connection', async () => {
  const t = plan(7)
  const peer1 = new Peer({ config, initiator: true })
  const peer2 = new Peer({ config })
  peer1.on('signal', data => peer2.signal(data))
  peer2.on('signal', data => peer1.signal(data))

  peer1.on('connect', () => {
    t.pass('peers connected')
    t.ok(peer1.remoteAddress, 'peer1 remote address is present')
    t.ok(peer1.remotePort, 'peer1 remote port is present')

    // Registered here, as the original does: the initiator's 'connect' comes first.
    peer2.on('connect', () => {
      t.ok(peer2.remoteAddress, 'peer2 remote address is present')
      t.ok(peer2.remotePort, 'peer2 remote port is present')

      peer1.on('close', () => { t.pass('peer1 destroyed') })
      peer1.destroy()
      peer2.on('close', () => { t.pass('peer2 destroyed') })
      peer2.destroy()
    })
  })
  await t.done
})

test('ensure iceStateChange fires when connection failed', async () => {
  const t = plan(1)
  const peer = new Peer({ config, initiator: true })
  peer.on('iceStateChange', () => {
    t.pass('got iceStateChange')
  })
  // simulate concurrent iceConnectionStateChange and destroy()
  peer.destroy()
  peer._pc.oniceconnectionstatechange()
  await t.done
})
