'use strict'
// Helpers of scripts/hot-functions.sh, which lists the addon's functions that a data-channel
// session runs, so the release link can place them side by side (build.rs).
//   node scripts/hot-functions.js workload             eight pairs: data, stats, idle, close
//   node scripts/hot-functions.js callgrind LIB OUT...  functions of LIB that callgrind saw run
//   node scripts/hot-functions.js faults LIB PERFTEXT   functions of LIB whose code page faulted
const fs = require('fs')
const { execFileSync } = require('child_process')

async function workload () {
  const Peer = require('..')
  const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))
  const connect = (extra = {}) => {
    const a = new Peer({ initiator: true, config: { iceServers: [] } })
    const b = new Peer(Object.assign({ config: { iceServers: [] } }, extra))
    a.on('signal', data => b.signal(data))
    b.on('signal', data => a.signal(data))
    return Promise.all([new Promise(resolve => a.once('connect', resolve)), new Promise(resolve => b.once('connect', resolve))]).then(() => [a, b])
  }
  // Default ports, then a shared UDP port as a server has; several pairs held at once, idle
  // long enough for keepalives and heartbeats, then closed from either end.
  const pairs = []
  for (let i = 0; i < 8; i++) pairs.push(await connect(i % 2 ? { native: { udpMuxPort: 40123 } } : {}))
  for (const [a, b] of pairs) {
    let echoed = 0
    b.on('data', data => b.write(data))
    a.on('data', data => { echoed += data.length })
    const big = Buffer.alloc(100000, 7)
    for (let i = 0; i < 20; i++) a.send('message ' + i)
    a.write(big)
    while (echoed < big.length + 20 * 9) await sleep(20)
    await new Promise(resolve => a.getStats(resolve))
  }
  await sleep(Number(process.env.HOT_FUNCTIONS_IDLE_MS || 6000))
  pairs.forEach(([a, b], i) => (i % 2 ? a : b).destroy())
  await sleep(500)
}

// Callgrind names a function once as `fn=(id) name` and later by `(id)` alone.
function fromCallgrind (lib, files) {
  const hot = new Set()
  for (const file of files) {
    const objects = new Map()
    const names = new Map()
    let object = ''
    for (const line of fs.readFileSync(file, 'latin1').split('\n')) {
      const m = /^(c?)(ob|fn|cfn)=\((\d+)\)(?: (.*))?$/.exec(line)
      if (!m) continue
      const [, called, kind, id, name] = m
      if (kind === 'ob') {
        if (name) objects.set(id, name)
        if (!called) object = objects.get(id) || ''
      } else {
        if (name) names.set(id, name)
        if (kind === 'fn' && object === lib) hot.add(names.get(id))
      }
    }
  }
  return [...hot].filter(name => !name.startsWith('0x'))
}

// perf's page-fault samples (`perf script -F addr --show-mmap-events`): each fault in the
// addon's code is a function the native run executed that the list does not yet place.
function fromFaults (lib, perfText) {
  const symbols = execFileSync('nm', ['-S', '--defined-only', lib], { encoding: 'latin1', maxBuffer: 1 << 28 })
    .split('\n').map(line => line.split(' ')).filter(f => f.length === 4 && /[tTwW]/.test(f[2]))
    .map(([addr, size, , name]) => ({ start: parseInt(addr, 16), end: parseInt(addr, 16) + parseInt(size, 16), name }))
    .sort((x, y) => x.start - y.start)
  let base = null
  const hot = new Set()
  for (const line of fs.readFileSync(perfText, 'latin1').split('\n')) {
    const map = /PERF_RECORD_MMAP2 .*\[0x([0-9a-f]+)\(0x[0-9a-f]+\) @ (0|0x[0-9a-f]+) .*\]: r--p (.*)$/.exec(line)
    if (map && parseInt(map[2], 16) === 0 && map[3] === lib) base = parseInt(map[1], 16)
    const fault = /^\s*([0-9a-f]+)\s*$/.exec(line)
    if (!fault || base === null) continue
    const at = parseInt(fault[1], 16) - base
    let lo = 0
    let hi = symbols.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (symbols[mid].start <= at) lo = mid
      else hi = mid - 1
    }
    const symbol = symbols[lo]
    if (symbol && symbol.start <= at && at < symbol.end) hot.add(symbol.name)
  }
  return [...hot]
}

const [command, ...args] = process.argv.slice(2)
if (command === 'workload') {
  workload().catch(err => { console.error(err); process.exit(1) })
} else if (command === 'callgrind') {
  process.stdout.write(fromCallgrind(args[0], args.slice(1)).join('\n') + '\n')
} else if (command === 'faults') {
  process.stdout.write(fromFaults(args[0], args[1]).join('\n') + '\n')
} else {
  console.error('usage: node scripts/hot-functions.js workload | callgrind LIB OUT... | faults LIB PERFTEXT')
  process.exit(2)
}
