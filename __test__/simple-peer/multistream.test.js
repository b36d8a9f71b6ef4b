'use strict'
// simple-peer 9.11.1 test/multistream.js, case by case, against this package.
const test = require('node:test')
const { peer, link, destroyMade, loadFrames, getMediaStream, stopMedia, plan } = require('./common')

test.before(loadFrames)
test.after(stopMedia)
test.afterEach(destroyMade)

const streams = count => new Array(count).fill(null).map(() => getMediaStream())

// Asserts that each event (stream or track) carries an id not seen before in the case.
function unique (t, receivedIds, what) {
  return item => {
    if (receivedIds[item.id]) t.fail(`received one unique ${what} per event`)
    else receivedIds[item.id] = true
  }
}

test('multistream', async () => {
  const t = plan(20)
  const peer1 = peer({ initiator: true, streams: streams(10) })
  const peer2 = peer({ streams: streams(10) })
  link(peer1, peer2)
  const seen = unique(t, {}, 'stream')
  peer1.on('stream', stream => { t.pass('peer1 got stream'); seen(stream) })
  peer2.on('stream', stream => { t.pass('peer2 got stream'); seen(stream) })
  await t.done
})

test('multistream (track event)', async () => {
  const t = plan(20)
  const peer1 = peer({ initiator: true, streams: streams(5) })
  const peer2 = peer({ streams: streams(5) })
  link(peer1, peer2)
  const seen = unique(t, {}, 'track')
  peer1.on('track', track => { t.pass('peer1 got track'); seen(track) })
  peer2.on('track', track => { t.pass('peer2 got track'); seen(track) })
  await t.done
})

test('multistream on non-initiator only', async () => {
  const t = plan(30)
  const peer1 = peer({ initiator: true, streams: [] })
  const peer2 = peer({ streams: streams(10) })
  peer1.on('signal', data => {
    if (data.transceiverRequest) t.pass('got transceiverRequest')
    if (!peer2.destroyed) peer2.signal(data)
  })
  peer2.on('signal', data => {
    if (data.transceiverRequest) t.pass('got transceiverRequest')
    if (!peer1.destroyed) peer1.signal(data)
  })
  const seen = unique(t, {}, 'stream')
  peer1.on('stream', stream => { t.pass('peer1 got stream'); seen(stream) })
  await t.done
})

test('delayed stream on non-initiator', async () => {
  const t = plan(1, { timeout: 15000 })
  const peer1 = peer({ trickle: true, initiator: true, streams: [getMediaStream()] })
  const peer2 = peer({ trickle: true, streams: [] })
  link(peer1, peer2)
  const timer = setTimeout(() => { peer2.addStream(getMediaStream()) }, 10000)
  peer1.on('stream', () => { t.pass('peer1 got stream') })
  await t.done.finally(() => clearTimeout(timer))
})

// Each side adds a stream on connect and another for each one it receives, until it has
// received `target` (the incremental cases); with tracks, a stream every second track.
function incremental (t, { event, target, both }) {
  const peer1 = peer({ initiator: true, streams: [] })
  const peer2 = peer({ streams: [] })
  link(peer1, peer2)
  peer1.on('connect', () => {
    t.pass('peer1 connected')
    if (both) peer1.addStream(getMediaStream())
  })
  peer2.on('connect', () => {
    t.pass('peer2 connected')
    peer2.addStream(getMediaStream())
  })
  const seen = unique(t, {}, event)
  const onItem = (name, adder) => {
    let count = 0
    return item => {
      t.pass(`${name} got ${event}`)
      seen(item)
      count++
      const more = event === 'stream' ? count < target : count % 2 === 0 && count < target
      if (more) adder.addStream(getMediaStream())
    }
  }
  peer1.on(event, onItem('peer1', both ? peer1 : peer2))
  if (both) peer2.on(event, onItem('peer2', peer2))
}

for (const [name, count, options] of [
  ['incremental multistream', 12, { event: 'stream', target: 5, both: true }],
  ['incremental multistream (track event)', 22, { event: 'track', target: 10, both: true }],
  ['incremental multistream on non-initiator only', 7, { event: 'stream', target: 5, both: false }],
  ['incremental multistream on non-initiator only (track event)', 12, { event: 'track', target: 10, both: false }]
]) {
  test(name, async () => {
    const t = plan(count)
    incremental(t, options)
    await t.done
  })
}

test('addStream after removeStream', async () => {
  const t = plan(2)
  const stream1 = getMediaStream()
  const stream2 = getMediaStream()
  const peer1 = peer({ initiator: true })
  const peer2 = peer({ streams: [stream1] })
  link(peer1, peer2)
  let timer
  peer1.once('stream', () => {
    t.pass('peer1 got first stream')
    peer2.removeStream(stream1)
    timer = setTimeout(() => {
      peer1.once('stream', () => { t.pass('peer1 got second stream') })
      peer2.addStream(stream2)
    }, 1000)
  })
  await t.done.finally(() => clearTimeout(timer))
})

test('removeTrack immediately', async () => {
  const t = plan(2)
  const peer1 = peer({ initiator: true })
  const peer2 = peer()
  link(peer1, peer2)
  const stream1 = getMediaStream()
  const stream2 = getMediaStream()
  peer1.addTrack(stream1.getTracks()[0], stream1)
  peer2.addTrack(stream2.getTracks()[0], stream2)
  peer1.removeTrack(stream1.getTracks()[0], stream1)
  peer2.removeTrack(stream2.getTracks()[0], stream2)
  peer1.on('track', () => { t.fail('peer1 did not get track event') })
  peer2.on('track', () => { t.fail('peer2 did not get track event') })
  peer1.on('connect', () => { t.pass('peer1 connected') })
  peer2.on('connect', () => { t.pass('peer2 connected') })
  await t.done
})

test('replaceTrack', async () => {
  const t = plan(4)
  const peer1 = peer({ initiator: true })
  const peer2 = peer()
  link(peer1, peer2)
  const stream1 = getMediaStream()
  const stream2 = getMediaStream()
  peer1.addTrack(stream1.getTracks()[0], stream1)
  peer2.addTrack(stream2.getTracks()[0], stream2)
  peer1.replaceTrack(stream1.getTracks()[0], stream2.getTracks()[0], stream1)
  peer2.replaceTrack(stream2.getTracks()[0], stream1.getTracks()[0], stream2)
  peer1.on('track', () => {
    t.pass('peer1 got track event')
    peer2.replaceTrack(stream2.getTracks()[0], null, stream2)
  })
  peer2.on('track', () => {
    t.pass('peer2 got track event')
    peer1.replaceTrack(stream1.getTracks()[0], null, stream1)
  })
  peer1.on('connect', () => { t.pass('peer1 connected') })
  peer2.on('connect', () => { t.pass('peer2 connected') })
  await t.done
})
