'use strict'
// One measurement of one stack, in its own process: `node bench/case.js STACK CASE`.
// Prints one JSON line. bench/run.js runs every pair under a time limit.
const crypto = require('crypto')

const [stackName, caseName] = process.argv.slice(2)
const LOCAL = { iceServers: [] }
const MIB = 1024 * 1024

async function loadStack (name) {
  if (name === 'native') return { Peer: require('..'), extra: {} }
  if (name === 'wrtc') return { Peer: require('simple-peer'), extra: { wrtc: require('@roamhq/wrtc') } }
  if (name === 'datachannel') return { Peer: (await import('@thaunknown/simple-peer')).default, extra: {} }
  throw new Error('unknown stack ' + name)
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

function pair (Peer, extra, opts = {}) {
  const a = new Peer(Object.assign({ initiator: true, config: LOCAL }, extra, opts))
  const b = new Peer(Object.assign({ config: LOCAL }, extra, opts))
  a.on('signal', data => b.signal(data))
  b.on('signal', data => a.signal(data))
  a.on('error', () => {})
  b.on('error', () => {})
  const connected = Promise.all([new Promise(resolve => a.once('connect', resolve)), new Promise(resolve => b.once('connect', resolve))])
  return { a, b, connected }
}

// Writes `chunk` until `total` bytes, pausing whenever write() asks to.
function writeWithBackpressure (stream, chunk, total) {
  return new Promise(resolve => {
    let written = 0
    const writeMore = () => {
      while (written < total) {
        written += chunk.length
        if (!stream.write(chunk)) return stream.once('drain', writeMore)
      }
      resolve()
    }
    writeMore()
  })
}

function percentile (values, p) {
  const sorted = [...values].sort((x, y) => x - y)
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]
}

async function closeAll (peers) {
  peers.forEach(peer => peer.destroy())
  await sleep(100)
}

// One connection to a libwebrtc peer in a child process (__test__/fixtures/stack-peer.js,
// which answers): `work(local)` runs once both ends are connected; resolves with what the
// child reported last (its `received` summary, with --expect), work's result and the
// connect time.
async function crossStackRun (Peer, extra, flags, work) {
  const { spawn } = require('child_process')
  const path = require('path')
  const readline = require('readline')
  const child = spawn(process.execPath, [path.join(__dirname, '..', '__test__', 'fixtures', 'stack-peer.js'), 'wrtc', ...flags], { stdio: ['pipe', 'pipe', 'ignore'] })
  let summary = null
  let local = null
  let ready
  const childReady = new Promise(resolve => { ready = resolve })
  const remoteDone = new Promise(resolve => {
    readline.createInterface({ input: child.stdout }).on('line', line => {
      const message = JSON.parse(line)
      if (message.ready) ready()
      if (message.signal) local.signal(message.signal)
      if (message.received || message.sent) {
        summary = message
        resolve()
      }
    })
  })
  await childReady // its start (loading wrtc) is not part of the connect
  const started = process.hrtime.bigint()
  local = new Peer(Object.assign({ initiator: true, config: LOCAL }, extra))
  local.on('error', () => {})
  local.on('signal', data => child.stdin.write(JSON.stringify({ signal: data }) + '\n'))
  await new Promise(resolve => local.once('connect', resolve))
  const connectMs = Number(process.hrtime.bigint() - started) / 1e6
  const result = await work(local)
  await remoteDone
  local.destroy()
  child.stdin.end(JSON.stringify({ exit: true }) + '\n')
  await new Promise(resolve => child.once('exit', resolve))
  return { remote: summary, local: result, connect_ms: connectMs }
}

const cases = {
  // Time from construction to 'connect' on both sides, signals relayed in-process.
  async connect ({ Peer, extra }, opts = {}, runs = 30) {
    const times = []
    for (let i = 0; i < runs; i++) {
      const started = process.hrtime.bigint()
      const { a, b, connected } = pair(Peer, extra, opts)
      await connected
      times.push(Number(process.hrtime.bigint() - started) / 1e6)
      await closeAll([a, b])
    }
    return { median_ms: percentile(times, 0.5), p90_ms: percentile(times, 0.9) }
  },
  connect_trickle (stack) { return cases.connect(stack) },
  connect_no_trickle (stack) { return cases.connect(stack, { trickle: false }, 10) },

  // 64 MiB through the Duplex with backpressure; CPU seconds cover both peers.
  async bulk ({ Peer, extra }, chunkSize) {
    const total = 64 * MIB
    const { a, b, connected } = pair(Peer, extra)
    await connected
    const chunk = crypto.randomBytes(chunkSize)
    const cpuBefore = process.cpuUsage()
    const started = process.hrtime.bigint()
    const received = new Promise(resolve => {
      let count = 0
      b.on('data', data => { count += data.length; if (count >= total) resolve() })
    })
    await writeWithBackpressure(a, chunk, total)
    await received
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    const cpu = process.cpuUsage(cpuBefore)
    await closeAll([a, b])
    return { mb_per_s: total / 1e6 / seconds, cpu_s_per_64mib: (cpu.user + cpu.system) / 1e6 }
  },
  bulk_16k (stack) { return cases.bulk(stack, 16 * 1024) },
  bulk_64k (stack) { return cases.bulk(stack, 64 * 1024) },

  // 100-byte messages, each carrying its sequence number; all must arrive, in order.
  async messages ({ Peer, extra }) {
    const count = 200000
    const { a, b, connected } = pair(Peer, extra)
    await connected
    const started = process.hrtime.bigint()
    const done = new Promise((resolve, reject) => {
      let expected = 0
      b.on('data', data => {
        // @thaunknown/simple-peer delivers Uint8Arrays, not Buffers.
        const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
        for (let offset = 0; offset < data.length; offset += 100) {
          const seq = view.getUint32(offset)
          if (seq !== expected) return reject(new Error(`message ${seq} arrived when ${expected} was due`))
          expected++
        }
        if (expected === count) resolve()
      })
    })
    let sent = 0
    await new Promise(resolve => {
      const writeMore = () => {
        while (sent < count) {
          const message = Buffer.alloc(100)
          message.writeUInt32BE(sent++)
          if (!a.write(message)) return a.once('drain', writeMore)
        }
        resolve()
      }
      writeMore()
    })
    await done
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    await closeAll([a, b])
    return { msg_per_s: count / seconds }
  },

  // Memory per connected pair, 50 pairs held at once.
  async memory ({ Peer, extra }) {
    const pairs = 50
    global.gc && global.gc()
    await sleep(200)
    const before = process.memoryUsage()
    const peers = []
    for (let i = 0; i < pairs; i++) {
      const { a, b, connected } = pair(Peer, extra)
      await connected
      peers.push(a, b)
    }
    await sleep(500)
    global.gc && global.gc()
    const after = process.memoryUsage()
    await closeAll(peers)
    return { rss_kb_per_pair: (after.rss - before.rss) / 1024 / pairs, heap_kb_per_pair: (after.heapUsed - before.heapUsed) / 1024 / pairs }
  },

  // Node ↔ headless Chromium running simple-peer 9.11.1: 16 MiB each way through the streams.
  async browser ({ Peer }) {
    const harness = require('../__test__/browser/harness')
    if (!harness.chromiumAvailable()) throw new Error('no Chromium at ' + harness.CHROMIUM)
    const size = 16 * MIB
    const session = await harness.launch()
    try {
      const { page, node, browser } = await harness.browserPair(session, () => new Peer({ config: LOCAL }), { browserOpts: { initiator: true } })
      await Promise.all([new Promise(resolve => node.once('connect', resolve)), new Promise(resolve => browser.once('connect', resolve))])

      let started = process.hrtime.bigint()
      const received = new Promise(resolve => {
        let count = 0
        node.on('data', data => { count += data.length; if (count >= size) resolve() })
      })
      await page.evaluate(n => window.browserPeer.streamOut(n), size)
      await received
      const toNode = size / 1e6 / (Number(process.hrtime.bigint() - started) / 1e9)

      // The page checks every byte against the pattern (offset & 0xff), which a 64 KiB chunk
      // starting at a multiple of 256 always repeats.
      const chunk = Buffer.alloc(64 * 1024)
      for (let i = 0; i < chunk.length; i++) chunk[i] = i & 0xff
      await page.evaluate(n => { window.streamInDone = window.browserPeer.streamIn(n) }, size)
      started = process.hrtime.bigint()
      await writeWithBackpressure(node, chunk, size)
      await page.evaluate(() => window.streamInDone)
      const toBrowser = size / 1e6 / (Number(process.hrtime.bigint() - started) / 1e9)
      node.destroy()
      return { to_node_mb_per_s: toNode, to_browser_mb_per_s: toBrowser }
    } finally {
      await session.close()
    }
  },

  // 8 MiB each way between this process's stack and simple-peer + @roamhq/wrtc (libwebrtc,
  // the engine of every Chromium) in a second process, one connection per direction. Rates
  // are the receiver's, from its first byte to its last; connect is construction to
  // 'connect' here, signals relayed over the child's stdin and stdout.
  async cross_stack ({ Peer, extra }) {
    const total = 8 * MIB
    const out = await crossStackRun(Peer, extra, ['--expect', String(total)], async local => {
      await writeWithBackpressure(local, crypto.randomBytes(16 * 1024), total)
    })
    const back = await crossStackRun(Peer, extra, ['--send', String(total)], local => new Promise(resolve => {
      let received = 0
      let first = 0
      local.on('data', data => {
        if (!first) first = performance.now()
        received += data.length
        if (received >= total) resolve({ duration_ms: performance.now() - first })
      })
    }))
    return {
      to_remote_mb_per_s: total / 1e6 / (out.remote.timeline.at(-1)[0] / 1e3),
      from_remote_mb_per_s: total / 1e6 / (back.local.duration_ms / 1e3),
      connect_ms: (out.connect_ms + back.connect_ms) / 2
    }
  },

  // 500 pairs at once, each sending ordered messages for 30 s: counts what arrived, and
  // fails on any loss, reordering or error (the 100-pair version runs in the test suite).
  async load500 ({ Peer, extra }) {
    const pairs = []
    for (let i = 0; i < 10; i++) {
      const batch = Array.from({ length: 50 }, () => pair(Peer, extra))
      await Promise.all(batch.map(p => p.connected))
      pairs.push(...batch)
    }
    const errors = []
    const state = pairs.map(({ a, b }) => {
      const entry = { sent: 0, received: 0, misordered: 0 }
      a.on('error', err => errors.push(err.code))
      b.on('error', err => errors.push(err.code))
      b.on('data', data => {
        if (Number(data.toString()) !== entry.received) entry.misordered++
        entry.received++
      })
      return entry
    })
    const started = Date.now()
    while (Date.now() - started < 30000) {
      pairs.forEach(({ a }, i) => {
        for (let n = 0; n < 10 && a.bufferSize < 64 * 1024; n++) a.send(String(state[i].sent++))
      })
      await sleep(5)
    }
    const deadline = Date.now() + 30000
    while (state.some(entry => entry.received < entry.sent) && Date.now() < deadline) await sleep(50)
    const sent = state.reduce((sum, entry) => sum + entry.sent, 0)
    const received = state.reduce((sum, entry) => sum + entry.received, 0)
    const misordered = state.reduce((sum, entry) => sum + entry.misordered, 0)
    await closeAll(pairs.flatMap(({ a, b }) => [a, b]))
    if (received !== sent || misordered || errors.length) {
      throw new Error(`sent ${sent}, received ${received}, misordered ${misordered}, errors ${errors.join(',')}`)
    }
    return { pairs: pairs.length, msg_per_s: received / 30 }
  },

  // How many pairs connect and exchange a message in one process, in batches of 100.
  async capacity ({ Peer, extra }) {
    const peers = []
    let connectedPairs = 0
    const deadline = Date.now() + 60000
    for (let batch = 0; batch < 10 && Date.now() < deadline; batch++) {
      const batchPairs = Array.from({ length: 100 }, () => pair(Peer, extra))
      const ok = await Promise.race([
        Promise.all(batchPairs.map(async ({ a, b, connected }) => {
          await connected
          const got = new Promise(resolve => b.once('data', resolve))
          a.write('ping')
          await got
        })).then(() => true),
        sleep(Math.max(1000, deadline - Date.now())).then(() => false)
      ])
      batchPairs.forEach(({ a, b }) => peers.push(a, b))
      if (!ok) break
      connectedPairs += 100
    }
    await closeAll(peers)
    return { pairs: connectedPairs }
  }
}

;(async () => {
  const stack = await loadStack(stackName)
  const result = await cases[caseName](stack)
  process.stdout.write(JSON.stringify(result) + '\n')
  // Anchors may keep native threads alive past their last peer; the measurement is done.
  process.exit(0)
})().catch(err => {
  process.stdout.write(JSON.stringify({ error: String(err && err.message) }) + '\n')
  process.exit(1)
})
