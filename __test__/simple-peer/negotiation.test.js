'use strict'
// simple-peer 9.11.1 test/negotiation.js, case by case, against this package.
const test = require('node:test')
const { peer, link, destroyMade, loadFrames, getMediaStream, stopMedia, plan } = require('./common')

test.before(loadFrames)
test.after(stopMedia)
test.afterEach(destroyMade)

test('single negotiation', async () => {
  const t = plan(10)
  const peer1 = peer({ initiator: true, stream: getMediaStream() })
  const peer2 = peer({ stream: getMediaStream() })

  peer1.on('signal', data => {
    if (data.renegotiate) t.fail('got unexpected request to renegotiate')
    if (!peer2.destroyed) peer2.signal(data)
  })
  peer2.on('signal', data => {
    if (data.renegotiate) t.fail('got unexpected request to renegotiate')
    if (!peer1.destroyed) peer1.signal(data)
  })

  peer1.on('connect', () => { t.pass('peer1 connected') })
  peer2.on('connect', () => { t.pass('peer2 connected') })
  peer1.on('stream', () => { t.pass('peer1 got stream') })
  peer2.on('stream', () => { t.pass('peer2 got stream') })

  let trackCount1 = 0
  peer1.on('track', () => {
    t.pass('peer1 got track')
    trackCount1++
    if (trackCount1 >= 2) t.pass('got correct number of tracks')
  })
  let trackCount2 = 0
  peer2.on('track', () => {
    t.pass('peer2 got track')
    trackCount2++
    if (trackCount2 >= 2) t.pass('got correct number of tracks')
  })
  await t.done
})

test('manual renegotiation', async () => {
  const t = plan(2)
  const peer1 = peer({ initiator: true })
  const peer2 = peer()
  link(peer1, peer2)
  peer1.on('connect', () => {
    peer1.negotiate()
    peer1.on('negotiated', () => { t.pass('peer1 negotiated') })
    peer2.on('negotiated', () => { t.pass('peer2 negotiated') })
  })
  await t.done
})

test('repeated manual renegotiation', async () => {
  const t = plan(6)
  const peer1 = peer({ initiator: true })
  const peer2 = peer()
  link(peer1, peer2)
  peer1.once('connect', () => { peer1.negotiate() })
  peer1.once('negotiated', () => {
    t.pass('peer1 negotiated')
    peer1.negotiate()
    peer1.once('negotiated', () => {
      t.pass('peer1 negotiated again')
      peer1.negotiate()
      peer1.once('negotiated', () => { t.pass('peer1 negotiated again') })
    })
  })
  peer2.once('negotiated', () => {
    t.pass('peer2 negotiated')
    peer2.negotiate()
    peer2.once('negotiated', () => {
      t.pass('peer2 negotiated again')
      peer1.negotiate()
      peer1.once('negotiated', () => { t.pass('peer1 negotiated again') })
    })
  })
  await t.done
})

test('renegotiation after addStream', async () => {
  const t = plan(4)
  const peer1 = peer({ initiator: true })
  const peer2 = peer()
  link(peer1, peer2)
  peer1.on('connect', () => {
    t.pass('peer1 connect')
    peer1.addStream(getMediaStream())
  })
  peer2.on('connect', () => {
    t.pass('peer2 connect')
    peer2.addStream(getMediaStream())
  })
  peer1.on('stream', () => { t.pass('peer1 got stream') })
  peer2.on('stream', () => { t.pass('peer2 got stream') })
  await t.done
})

test('add stream on non-initiator only', async () => {
  const t = plan(3)
  const peer1 = peer({ initiator: true })
  const peer2 = peer({ stream: getMediaStream() })
  link(peer1, peer2)
  peer1.on('connect', () => { t.pass('peer1 connect') })
  peer2.on('connect', () => { t.pass('peer2 connect') })
  peer1.on('stream', () => { t.pass('peer1 got stream') })
  await t.done
})

test('negotiated channels', async () => {
  const t = plan(2)
  const peer1 = peer({ initiator: true, channelConfig: { id: 1, negotiated: true } })
  const peer2 = peer({ channelConfig: { id: 1, negotiated: true } })
  link(peer1, peer2)
  peer1.on('connect', () => { t.pass('peer1 connect') })
  peer2.on('connect', () => { t.pass('peer2 connect') })
  await t.done
})
