'use strict'
// simple-peer 9.11.1 test/stream.js, case by case, against this package.
const test = require('node:test')
const { Readable } = require('stream')
const { Peer, config, plan } = require('./common')

// string-to-stream's str('abc'): a readable of one string, then its end.
const str = text => Readable.from([text], { objectMode: false })

// The 9 assertions both cases make: peer2 gets 'abc', both sides finish and end.
function watch (t, peer1, peer2) {
  peer1.on('data', () => { t.fail('peer1 should not get data') })
  peer1.on('finish', () => {
    t.pass('got peer1 "finish"')
    t.ok(peer1._writableState.finished)
  })
  peer1.on('end', () => {
    t.pass('got peer1 "end"')
    t.ok(peer1._readableState.ended)
  })
  peer2.on('data', chunk => { t.equal(chunk.toString(), 'abc', 'got correct message') })
  peer2.on('finish', () => {
    t.pass('got peer2 "finish"')
    t.ok(peer2._writableState.finished)
  })
  peer2.on('end', () => {
    t.pass('got peer2 "end"')
    t.ok(peer2._readableState.ended)
  })
}

test('duplex stream: send data before "connect" event', async () => {
  const t = plan(9, { timeout: 20000 })
  const peer1 = new Peer({ config, initiator: true })
  const peer2 = new Peer({ config })
  peer1.on('signal', data => { if (!peer2.destroyed) peer2.signal(data) })
  peer2.on('signal', data => { if (!peer1.destroyed) peer1.signal(data) })
  str('abc').pipe(peer1)
  watch(t, peer1, peer2)
  await t.done
})

test('duplex stream: send data one-way', async () => {
  const t = plan(9, { timeout: 20000 })
  const peer1 = new Peer({ config, initiator: true })
  const peer2 = new Peer({ config })
  peer1.on('signal', data => { peer2.signal(data) })
  peer2.on('signal', data => { peer1.signal(data) })
  peer1.on('connect', tryTest)
  peer2.on('connect', tryTest)
  function tryTest () {
    if (!peer1.connected || !peer2.connected) return
    watch(t, peer1, peer2)
    str('abc').pipe(peer1)
  }
  await t.done
})
