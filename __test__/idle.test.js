'use strict'
// What an idle connected peer does: its webrtc driver wakes for consent (a keepalive every
// 2 s each way, and the answers) and nothing else. rtc-ice 0.21 woke it every 200 ms for as
// long as the connection lived (vendor/PATCHES.md), which at 10,000 peers was both cores.
const test = require('node:test')
const assert = require('node:assert/strict')
const { connectedPair, destroyMade } = require('./helpers')

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

test('an idle connected peer wakes its driver a few times per keepalive interval, not every 200 ms', async () => {
  const { a, b } = await connectedPair()
  await sleep(1000)
  const peers = [a, b]
  const before = peers.map(peer => peer._native._peer.driverWakeups)
  const seconds = 6
  await sleep(seconds * 1000)
  const perSecond = peers.map((peer, i) => (peer._native._peer.driverWakeups - before[i]) / seconds)
  console.log(`driver wake-ups per second while idle: ${perSecond.join(', ')}`)
  for (const rate of perSecond) assert.ok(rate < 3.5, `${rate} wake-ups per second`)
  // Consent still runs: the peers stay connected through three keepalive rounds.
  assert.ok(!a.destroyed && !b.destroyed)
  a.send('still here')
  assert.equal(String(await new Promise(resolve => b.once('data', resolve))), 'still here')
  destroyMade()
})
