'use strict'
// simple-peer 9.11.1 test/trickle.js, case by case, against this package.
const test = require('node:test')
const { Peer, config, plan } = require('./common')

// The disable-trickle cases: count signals, then exchange a message each way (8 assertions).
function trickleCase (opts1, opts2, checkCounts) {
  const t = plan(8)
  const peer1 = new Peer(Object.assign({ config, initiator: true }, opts1))
  const peer2 = new Peer(Object.assign({ config }, opts2))
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
    checkCounts(t, numSignal1, numSignal2)
    t.equal(peer1.initiator, true, 'peer1 is initiator')
    t.equal(peer2.initiator, false, 'peer2 is not initiator')

    peer1.send('sup peer2')
    peer2.on('data', data => {
      t.equal(data.toString(), 'sup peer2', 'got correct message')
      peer2.send('sup peer1')
      peer1.on('data', data => {
        t.equal(data.toString(), 'sup peer1', 'got correct message')
        peer1.on('close', () => { t.pass('peer1 destroyed') })
        peer1.destroy()
        peer2.on('close', () => { t.pass('peer2 destroyed') })
        peer2.destroy()
      })
    })
  }
  return t.done
}

test('disable trickle', () => trickleCase({ trickle: false }, { trickle: false }, (t, n1, n2) => {
  t.equal(n1, 1, 'only one `signal` event')
  t.equal(n2, 1, 'only one `signal` event')
}))

test('disable trickle (only initiator)', () => trickleCase({ trickle: false }, {}, (t, n1, n2) => {
  t.equal(n1, 1, 'only one `signal` event for initiator')
  t.ok(n2 >= 1, 'at least one `signal` event for receiver')
}))

test('disable trickle (only receiver)', () => trickleCase({}, { trickle: false }, (t, n1, n2) => {
  t.ok(n1 >= 1, 'at least one `signal` event for initiator')
  t.equal(n2, 1, 'only one `signal` event for receiver')
}))

// The end-of-candidates cases: every falsy candidate is rewritten to `marker`, and a marker
// is forced on both sides after connect in case none was sent.
function endCandidateCase (marker) {
  const t = plan()
  const peer1 = new Peer({ trickle: true, config, initiator: true })
  const peer2 = new Peer({ trickle: true, config })
  let endCandidateSent = false
  function endToMarker (data) {
    if (data.candidate && !data.candidate.candidate) {
      data.candidate.candidate = marker
      endCandidateSent = true
    }
    return data
  }
  peer1.on('error', () => t.fail('peer1 threw error'))
  peer2.on('error', () => t.fail('peer2 threw error'))
  peer1.on('signal', data => peer2.signal(endToMarker(data)))
  peer2.on('signal', data => peer1.signal(endToMarker(data)))
  peer1.on('connect', () => {
    if (!endCandidateSent) {
      peer1.signal({ candidate: { candidate: marker, sdpMLineIndex: 0, sdpMid: '0' } })
      peer2.signal({ candidate: { candidate: marker, sdpMLineIndex: 0, sdpMid: '0' } })
    }
    t.pass('connected')
    // An 'error' from the marker would come asynchronously: give it time to show.
    setTimeout(() => t.end(), 200)
  })
  return t.done.finally(() => {
    peer1.destroy()
    peer2.destroy()
  })
}

test('null end candidate does not throw', () => endCandidateCase(null))

test('empty-string end candidate does not throw', () => endCandidateCase(''))

test('mDNS candidate does not throw', async () => {
  const t = plan()
  const peer1 = new Peer({ trickle: true, config, initiator: true })
  const peer2 = new Peer({ trickle: true, config })
  peer1.on('error', () => t.fail('peer1 threw error'))
  peer2.on('error', () => t.fail('peer2 threw error'))
  peer1.on('signal', data => peer2.signal(data))
  peer2.on('signal', data => peer1.signal(data))
  peer1.on('connect', () => {
    // force an mDNS candidate to browsers that don't send them
    const candidate = 'candidate:2053030672 1 udp 2113937151 ede93942-fbc5-4323-9b73-169de626e467.local 55741 typ host generation 0 ufrag HNmH network-cost 999'
    peer1.signal({ candidate: { candidate, sdpMLineIndex: 0, sdpMid: '0' } })
    peer2.signal({ candidate: { candidate, sdpMLineIndex: 0, sdpMid: '0' } })
    t.pass('connected')
    setTimeout(() => t.end(), 200)
  })
  await t.done.finally(() => {
    peer1.destroy()
    peer2.destroy()
  })
})

test('ice candidates received before description', async () => {
  const t = plan(3)
  const peer1 = new Peer({ config, initiator: true })
  const peer2 = new Peer({ config })

  // Each side holds its signals until it has a candidate, then hands them over newest
  // first: candidates reach the remote before the description they belong to.
  const signalQueue1 = []
  peer1.on('signal', data => {
    signalQueue1.push(data)
    if (data.candidate) {
      while (signalQueue1[0]) peer2.signal(signalQueue1.pop())
    }
  })
  const signalQueue2 = []
  peer2.on('signal', data => {
    signalQueue2.push(data)
    if (data.candidate) {
      while (signalQueue2[0]) peer1.signal(signalQueue2.pop())
    }
  })

  peer1.on('connect', () => {
    t.pass('peers connected')
    peer2.on('connect', () => {
      peer1.on('close', () => { t.pass('peer1 destroyed') })
      peer1.destroy()
      peer2.on('close', () => { t.pass('peer2 destroyed') })
      peer2.destroy()
    })
  })
  await t.done
})
