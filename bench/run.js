'use strict'
// `npm run bench`: this package against simple-peer + @roamhq/wrtc and @thaunknown/simple-peer
// (node-datachannel), each case in a fresh process, inside the private network namespace.
// Prints a table of medians with the ratio to the best anchor, and writes bench/results/.
const { spawnSync } = require('child_process')
const fs = require('fs')
const os = require('os')
const path = require('path')

const STACKS = ['native', 'wrtc', 'datachannel']
const ANCHORS = STACKS.slice(1)
// Each metric: the case that measures it, the field, and whether higher is better.
const METRICS = [
  ['connect, trickle, median (ms)', 'connect_trickle', 'median_ms', false],
  ['connect, trickle, p90 (ms)', 'connect_trickle', 'p90_ms', false],
  ['connect, trickle: false, median (ms)', 'connect_no_trickle', 'median_ms', false],
  ['bulk, 16 KiB writes (MB/s)', 'bulk_16k', 'mb_per_s', true],
  ['bulk, 64 KiB writes (MB/s)', 'bulk_64k', 'mb_per_s', true],
  ['CPU seconds per 64 MiB (16 KiB writes)', 'bulk_16k', 'cpu_s_per_64mib', false],
  ['100-byte messages (msg/s)', 'messages', 'msg_per_s', true],
  ['RSS per connected pair (KB)', 'memory', 'rss_kb_per_pair', false],
  ['RSS per additional pair, pairs 11 to 50 (KB)', 'memory', 'marginal_rss_kb_per_pair', false],
  ['JS heap per connected pair (KB)', 'memory', 'heap_kb_per_pair', false],
  ['pairs connected in one process (max 1000)', 'capacity', 'pairs', true]
]
const CASES = [...new Set(METRICS.map(metric => metric[1]))]
const TIME_LIMIT_MS = 90000
// Connect cases finish in seconds when every connect completes (30 connects, 10 without
// trickle); node-datachannel's never connects without trickle, and sometimes hangs one.
const TIME_LIMITS_MS = { connect_trickle: 60000, connect_no_trickle: 30000, scale_10k: 420000, scale_1k_idle: 420000, raw_media: 600000 }
// One run of a timed case varies by ±15% here (and a connect p90 by more, when a burst of
// load hits its slowest few connects), which can decide a ratio near its target: those cases
// run three times and report the median run by the field named here. A run slower than
// QUICK_RUN_MS is not repeated (the slow anchors), which keeps the bench within minutes.
const REPEATED = {
  connect_trickle: 'p90_ms',
  connect_no_trickle: 'median_ms',
  bulk_16k: 'mb_per_s',
  bulk_64k: 'mb_per_s',
  messages: 'msg_per_s',
  cross_stack: 'to_remote_mb_per_s'
}
const REPEATS = 3
const QUICK_RUN_MS = 15000

function runCase (stack, name) {
  const limit = TIME_LIMITS_MS[name] || TIME_LIMIT_MS
  const child = spawnSync(process.execPath, ['--expose-gc', path.join(__dirname, 'case.js'), stack, name], {
    encoding: 'utf8',
    timeout: limit,
    stdio: ['ignore', 'pipe', 'ignore']
  })
  if (child.error && child.error.code === 'ETIMEDOUT' && !(child.stdout || '').includes('progress')) return { error: `no result within ${limit / 1000} s` }
  const line = (child.stdout || '').trim().split('\n').pop()
  const exited = `exited with ${child.status ?? child.signal}`
  let result
  try {
    result = JSON.parse(line)
  } catch {
    return { error: `${exited} and no result` }
  }
  // The scale cases report progress; a stack that died or timed out reached that many.
  if (result.progress) return { error: `${child.error ? `no result within ${limit / 1000} s` : exited} after ${result.progress.pairs} pairs connected`, reached_pairs: result.progress.pairs }
  return result
}

// The median run by the case's main field, with every run's value kept for the JSON. A run
// that fails (an anchor's connect that never completes) uses up one of the three attempts.
function runMedian (stack, name) {
  const field = REPEATED[name]
  const runs = []
  const failures = []
  for (let i = 0; i < (field ? REPEATS : 1); i++) {
    const started = Date.now()
    const result = runCase(stack, name)
    if (result.error) {
      failures.push(result)
      continue
    }
    runs.push(result)
    if (Date.now() - started > QUICK_RUN_MS) break
  }
  if (!runs.length) return failures[0]
  if (!field) return runs[0]
  runs.sort((x, y) => x[field] - y[field])
  const median = runs[(runs.length - 1) >> 1]
  return Object.assign({}, median, { runs: runs.map(run => run[field]), failed_runs: failures.length })
}

function format (value) {
  if (typeof value !== 'number') return '—'
  if (value >= 1000) return Math.round(value).toLocaleString('en-US')
  return value >= 10 ? value.toFixed(0) : value.toFixed(2)
}

function main () {
  const results = {}
  for (const stack of STACKS) {
    results[stack] = {}
    for (const name of CASES) {
      process.stderr.write(`${stack} ${name} … `)
      results[stack][name] = runMedian(stack, name)
      process.stderr.write((results[stack][name].error || 'ok') + '\n')
    }
  }

  const rows = METRICS.map(([label, name, field, higherIsBetter]) => {
    const value = stack => results[stack][name][field]
    const anchors = ANCHORS.map(value).filter(v => typeof v === 'number')
    const best = anchors.length ? (higherIsBetter ? Math.max(...anchors) : Math.min(...anchors)) : undefined
    const ours = value('native')
    // Ratios read as "times better than the best anchor", whichever way the metric points.
    const ratio = typeof ours === 'number' && typeof best === 'number' && ours > 0 && best > 0
      ? (higherIsBetter ? ours / best : best / ours)
      : undefined
    return { label, values: STACKS.map(value), best, ratio }
  })

  const header = ['metric', 'simple-peer-native', 'simple-peer + @roamhq/wrtc', '@thaunknown/simple-peer', 'vs best anchor']
  const lines = [header, header.map(() => '---')]
  for (const row of rows) {
    lines.push([row.label, ...row.values.map(format), row.ratio ? row.ratio.toFixed(1) + '×' : '—'])
  }
  console.log(lines.map(cells => '| ' + cells.join(' | ') + ' |').join('\n'))
  const failures = STACKS.flatMap(stack => CASES.filter(name => results[stack][name].error).map(name => `${stack}/${name}: ${results[stack][name].error}`))
  if (failures.length) console.log('\nNo result: ' + failures.join('; '))

  // Measured for this package only: against a real browser the anchors would need their own
  // harness (and the browser's side is the same for all), and 500 pairs is a load check.
  const nativeOnly = (name, title, describe) => {
    process.stderr.write(`native ${name} … `)
    const result = results.native[name] = runCase('native', name)
    process.stderr.write((result.error || 'ok') + '\n')
    console.log(`\n${title}:\n  ${result.error ? 'no result: ' + result.error : describe(result)}`)
  }
  nativeOnly('browser', 'Node ↔ headless Chromium (simple-peer 9.11.1 in the page), 16 MiB each way through the streams',
    r => `Chromium → Node ${format(r.to_node_mb_per_s)} MB/s, Node → Chromium ${format(r.to_browser_mb_per_s)} MB/s`)
  // Against libwebrtc in a second process: this package's side, then libwebrtc's own, so the
  // two lines compare in one run.
  const crossStack = {}
  for (const stack of ['native', 'wrtc']) {
    process.stderr.write(`${stack} cross_stack … `)
    crossStack[stack] = results[stack].cross_stack = runMedian(stack, 'cross_stack')
    process.stderr.write((crossStack[stack].error || 'ok') + '\n')
  }
  const crossLine = (label, result, to, from) => result.error
    ? `${label}: no result: ${result.error}`
    : `${label}: ${to} ${format(result.to_remote_mb_per_s)} MB/s, ${from} ${format(result.from_remote_mb_per_s)} MB/s, connect ${format(result.connect_ms)} ms`
  console.log('\nAgainst libwebrtc (simple-peer + @roamhq/wrtc) in a second process, 8 MiB each way, median of three:')
  console.log('  ' + crossLine('simple-peer-native', crossStack.native, 'this package → libwebrtc', 'libwebrtc → this package'))
  console.log('  ' + crossLine('simple-peer + wrtc', crossStack.wrtc, 'libwebrtc → libwebrtc', 'back'))
  // Through a local TURN relay, and a remote that vanishes: this package and libwebrtc, each
  // against itself, in one run.
  const reliability = {}
  for (const stack of ['native', 'wrtc']) {
    reliability[stack] = {}
    for (const name of ['relay', 'relay_tcp', 'detection']) {
      process.stderr.write(`${stack} ${name} … `)
      reliability[stack][name] = results[stack][name] = runCase(stack, name)
      process.stderr.write((reliability[stack][name].error || 'ok') + '\n')
    }
  }
  const label = { native: 'simple-peer-native', wrtc: 'simple-peer + wrtc' }
  console.log('\nThrough a TURN relay (Debian\'s coturn in the namespace), relay-only on both sides, each stack against itself:')
  for (const [name, stack] of [['relay', 'native'], ['relay', 'wrtc'], ['relay_tcp', 'native'], ['relay_tcp', 'wrtc']]) {
    const r = reliability[stack][name]
    console.log(`  ${label[stack]}, ${name === 'relay' ? 'UDP' : 'TCP'} to the server: ` + (r.error
      ? `no result: ${r.error}`
      : `connect ${format(r.connect_median_ms)} ms (median of 5), 8 MiB at ${format(r.mb_per_s)} MB/s, the remote sees 'close' ${r.remote_close_ms === null ? 'never (40 s)' : format(r.remote_close_ms) + ' ms'} after destroy()`))
  }
  console.log('\nA remote that vanishes (its process killed), each stack against itself in a second process:')
  for (const stack of ['native', 'wrtc']) {
    const r = reliability[stack].detection
    console.log(`  ${label[stack]}: ` + (r.error
      ? `no result: ${r.error}`
      : `'disconnected' after ${format(r.disconnected_ms)} ms, ${r.error_code} and 'close' after ${format(r.close_ms)} ms`))
  }
  nativeOnly('load500', '500 pairs in one process, ordered messages for 30 s',
    r => `${r.pairs} pairs, ${format(r.msg_per_s)} msg/s in total, none lost or reordered, no errors`)

  // Raw media (PCM and I420 through the codecs), this package and wrtc's nonstandard API.
  console.log('\nRaw media in real time, one process (CPU as % of one core per stream; see raw_media in bench/case.js):\n')
  console.log('| stack | Opus stereo: encode | decode | streams kept in real time | 640x480 at 30 fps: encode | decode | streams kept in real time |')
  console.log('| --- | --- | --- | --- | --- | --- | --- |')
  for (const stack of ['native', 'wrtc']) {
    process.stderr.write(`${stack} raw_media … `)
    const r = results[stack].raw_media = runCase(stack, 'raw_media')
    process.stderr.write((r.error || 'ok') + '\n')
    const share = value => `${format(value * 100)}%`
    const kept = k => `${k.streams_in_real_time}${k.streams_in_real_time === k.streams_limit ? '+' : ''}`
    console.log(r.error
      ? `| ${label[stack]} | no result: ${r.error} | | | | | |`
      : `| ${label[stack]} | ${share(r.audio.encode_core_share)} | ${share(r.audio.decode_core_share)} | ${kept(r.audio)} | ${share(r.video.encode_core_share)} | ${share(r.video.decode_core_share)} | ${kept(r.video)} |`)
  }

  // A server's scale, every stack in one run: see `scale` in bench/case.js.
  const scaleRow = (stack, result) => result.error
    ? `| ${stack} | ${result.reached_pairs ?? '—'} (${result.error}) | — | — | — | — | — | — | — |`
    : `| ${stack} | ${format(result.pairs)} | ${format(result.connect_s)} | ${format(result.rss_kb_per_peer)} | ${format(result.fds_per_peer)} | ${format(result.exchange_cpu_us_per_peer_s)} | ${format(result.event_loop_delay_p99_ms)} | ${result.lost.toLocaleString('en-US')} of ${format(result.sent)} | ${result.idle_cpu_us_per_peer_s === undefined ? '—' : format(result.idle_cpu_us_per_peer_s)} |`
  for (const [name, title] of [
    ['scale_10k', '10,000 peers in one process: 5,000 server peers (this package: on one shared UDP port) and 5,000 visitors, one message each way per pair per second for 60 s'],
    ['scale_1k_idle', '1,000 pairs without the shared port, the same exchange, then 60 s connected and idle']
  ]) {
    console.log(`\n${title}:\n`)
    console.log('| stack | pairs connected | connect, all (s) | RSS per peer (KB) | fds per peer | CPU per peer, exchanging (µs/s) | event-loop delay p99 (ms) | messages lost | CPU per idle peer (µs/s) |')
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |')
    for (const stack of STACKS) {
      process.stderr.write(`${stack} ${name} … `)
      const result = results[stack][name] = runCase(stack, name)
      process.stderr.write((result.error || 'ok') + '\n')
      console.log(scaleRow(stack, result))
    }
  }

  const machine = { cpus: os.cpus().length, cpu: os.cpus()[0] && os.cpus()[0].model, memory_gib: Math.round(os.totalmem() / 2 ** 30), node: process.version }
  const out = path.join(__dirname, 'results')
  fs.mkdirSync(out, { recursive: true })
  const file = path.join(out, 'latest.json')
  fs.writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), machine, results, rows }, null, 2))
  console.log(`\n${machine.cpus} cores, ${machine.cpu}, Node ${machine.node}. Raw results: ${path.relative(process.cwd(), file)}`)
  console.log('Ratios are "times better than the best anchor" (>1 is better), measured in this run.')
}

main()
