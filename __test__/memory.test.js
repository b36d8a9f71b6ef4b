'use strict'
// What a connected peer costs, measured at the margin (after warm-up pairs, so code paged in
// and the runtime's threads are not counted): the C allocator's bytes in use, RSS and file
// descriptors. The bounds sit between today's figures and what each vendored change removed
// (vendor/PATCHES.md), so losing one fails here.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('fs')
const path = require('path')
const { execFileSync } = require('child_process')
const v8 = require('v8')
const vm = require('vm')
const binding = require('../binding.js')
const { connectedPair, destroyMade } = require('./helpers')

const WARM_PAIRS = 10
const MEASURED_PAIRS = 30

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc')

function sample () {
  gc()
  return {
    allocated: binding.allocatorBytesInUse(),
    rss: process.memoryUsage().rss,
    fds: fs.readdirSync('/proc/self/fd').length
  }
}

const settle = () => new Promise(resolve => setTimeout(resolve, 300))

test('a connected peer costs under 122 KB of native allocations, 300 KB of RSS and one file descriptor', { skip: binding.allocatorBytesInUse() === null && 'no allocator statistics in this C library' }, async () => {
  for (let i = 0; i < WARM_PAIRS; i++) await connectedPair()
  await settle()
  const before = sample()
  for (let i = 0; i < MEASURED_PAIRS; i++) await connectedPair()
  await settle()
  const after = sample()
  const peers = MEASURED_PAIRS * 2
  const allocatedKb = (after.allocated - before.allocated) / 1024 / peers
  const rssKb = (after.rss - before.rss) / 1024 / peers
  const fds = (after.fds - before.fds) / peers
  console.log(`per connected peer: ${allocatedKb.toFixed(1)} KB allocated, ${rssKb.toFixed(1)} KB RSS, ${fds} fds`)
  // Each of these was in every peer before vendor/PATCHES.md's memory changes: a zero-filled
  // 256 KiB SCTP buffer, a 94 KB second receive buffer, 256 preallocated driver-queue slots
  // (~60 KB), a 94 KB receive buffer of its own while it waits (now lent per read), a data
  // channel event queue of 256 slots allocated up front (~9 KB, now as messages arrive); a
  // codec table of its own (~14 KB, now shared by every peer); and, in our configuration, an
  // mDNS socket with its own receive buffer.
  assert.ok(allocatedKb < 122, `${allocatedKb.toFixed(1)} KB allocated per peer`)
  assert.ok(rssKb < 300, `${rssKb.toFixed(1)} KB RSS per peer`)
  assert.equal(fds, 1, 'one UDP socket per peer, no mDNS socket')
  destroyMade()
})

// build.rs links the functions a data-channel session runs side by side
// (scripts/hot-functions.txt); scattered, they made the kernel's fault-around map ~95% of the
// code for one connection. A list gone stale fails here: regenerate it. The bound is in KB,
// not a share of the code: code no connection runs (the codecs: 1.8 MB) would dilute a
// share, and a list made stale by the codecs' arrival (new symbol hashes) paged in 3.8 MB,
// 66% of 5.8, against 2.0 with a fresh one.
test('one connection pages in under 2.6 MB of the addon\'s code', { skip: !(process.platform === 'linux' && process.arch === 'x64' && binding.allocatorBytesInUse() !== null) && 'the hot-function order applies to x86_64 Linux (glibc) builds' }, () => {
  const report = JSON.parse(execFileSync(process.execPath, [path.join(__dirname, 'fixtures', 'code-pages.js')], { encoding: 'utf8', timeout: 60000 }))
  console.log(`code resident: ${report.loaded} KB loaded, ${report.connected} KB after one connection, of ${report.size} KB`)
  assert.ok(report.connected < 2600, `${report.connected} of ${report.size} KB of code resident`)
})
