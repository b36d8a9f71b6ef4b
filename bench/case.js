'use strict'
// One measurement of one stack, in its own process: `node bench/case.js STACK CASE`.
// Prints one JSON line. bench/run.js runs every pair under a time limit.
const crypto = require('crypto')

const [stackName, caseName] = process.argv.slice(2)
const LOCAL = { iceServers: [] }
const MIB = 1024 * 1024
const WARM_UP_PAIRS = 10

async function loadStack (name) {
  if (name === 'native') return { name, Peer: require('..'), extra: {} }
  if (name === 'wrtc') return { name, Peer: require('simple-peer'), extra: { wrtc: require('@roamhq/wrtc') } }
  if (name === 'datachannel') return { name, Peer: (await import('@thaunknown/simple-peer')).default, extra: {} }
  throw new Error('unknown stack ' + name)
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

function pair (Peer, extra, opts = {}, optsB = opts) {
  const a = new Peer(Object.assign({ initiator: true, config: LOCAL }, extra, opts))
  const b = new Peer(Object.assign({ config: LOCAL }, extra, optsB))
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
// A peer of `stack` (wrtc or native) in a child process (__test__/fixtures/stack-peer.js),
// which answers. `ready` resolves once it has loaded; `connect(local)` relays signals both ways;
// `onMessage` hears every other line it prints.
function stackPeerChild (stack, flags, onMessage = () => {}) {
  const { spawn } = require('child_process')
  const path = require('path')
  const readline = require('readline')
  const child = spawn(process.execPath, [path.join(__dirname, '..', '__test__', 'fixtures', 'stack-peer.js'), stack, ...flags], { stdio: ['pipe', 'pipe', 'ignore'] })
  let local = null
  let loaded
  const ready = new Promise(resolve => { loaded = resolve })
  readline.createInterface({ input: child.stdout }).on('line', line => {
    const message = JSON.parse(line)
    if (message.ready) loaded()
    if (message.signal && local) local.signal(message.signal)
    onMessage(message)
  })
  const connect = peer => {
    local = peer
    peer.on('signal', data => child.stdin.write(JSON.stringify({ signal: data }) + '\n'))
  }
  return { child, ready, connect }
}

async function crossStackRun (Peer, extra, flags, work) {
  let summary = null
  let remoteFinished
  const remoteDone = new Promise(resolve => { remoteFinished = resolve })
  const { child, ready, connect } = stackPeerChild('wrtc', flags, message => {
    if (message.received || message.sent) {
      summary = message
      remoteFinished()
    }
  })
  await ready // its start (loading wrtc) is not part of the connect
  const started = process.hrtime.bigint()
  const local = new Peer(Object.assign({ initiator: true, config: LOCAL }, extra))
  local.on('error', () => {})
  connect(local)
  await new Promise(resolve => local.once('connect', resolve))
  const connectMs = Number(process.hrtime.bigint() - started) / 1e6
  const result = await work(local)
  await remoteDone
  local.destroy()
  child.stdin.end(JSON.stringify({ exit: true }) + '\n')
  await new Promise(resolve => child.once('exit', resolve))
  return { remote: summary, local: result, connect_ms: connectMs }
}

// Through Debian's coturn, started here inside the bench's namespace (never a public server):
// relay-only on both sides, the same stack both ends.
async function relayRun (Peer, extra, iceServer) {
  const config = { iceServers: [iceServer], iceTransportPolicy: 'relay' }
  const started = process.hrtime.bigint()
  const { a, b, connected } = pair(Peer, extra, { config })
  await connected
  return { a, b, connectMs: Number(process.hrtime.bigint() - started) / 1e6 }
}

// wrtc's nonstandard raw-media API, which this package mirrors: the same bench code drives both.
function rawMediaApi ({ name, Peer, extra }) {
  if (name === 'native') return Object.assign({ MediaStream: Peer.MediaStream }, Peer.nonstandard)
  if (name === 'wrtc') return Object.assign({ MediaStream: extra.wrtc.MediaStream }, extra.wrtc.nonstandard)
  throw new Error(`${name} has no raw-media API`)
}

const RAW = {
  // 10 ms of 48 kHz stereo per write (wrtc takes nothing else), a 440 Hz tone.
  audio: { interval: 10, unitsPerSecond: 48000 },
  // 640x480 pictures at 30 fps whose brightness moves, so every frame is coded anew.
  video: { interval: 1000 / 30, unitsPerSecond: 30 }
}

// `streams` raw tracks from one peer to the other for `seconds`, written in real time, the
// receiver decoding them when `decode`: CPU over the window (encoders, decoders, the pair)
// and how much arrived decoded, per stream per second.
async function rawMediaRun (stack, kind, streams, seconds, decode) {
  const api = rawMediaApi(stack)
  const sources = Array.from({ length: streams }, () => kind === 'audio' ? new api.RTCAudioSource() : new api.RTCVideoSource())
  const tracks = sources.map(source => source.createTrack())
  const { a, b, connected } = pair(stack.Peer, stack.extra, { stream: new api.MediaStream(tracks) }, {})
  const sinks = []
  let decoded = 0
  let counting = false
  b.on('track', track => {
    if (!decode) return
    const sink = kind === 'audio' ? new api.RTCAudioSink(track) : new api.RTCVideoSink(track)
    if (kind === 'audio') sink.ondata = data => { if (counting) decoded += data.numberOfFrames }
    else sink.onframe = () => { if (counting) decoded++ }
    sinks.push(sink)
  })
  await connected
  const samples = new Int16Array(960)
  for (let i = 0; i < 480; i++) samples[2 * i] = samples[2 * i + 1] = Math.round(Math.sin(2 * Math.PI * 440 * i / 48000) * 8000)
  const picture = new Uint8ClampedArray(640 * 480 * 3 / 2).fill(128)
  let tick = 0
  const write = () => {
    if (kind === 'audio') {
      for (const source of sources) source.onData({ samples, sampleRate: 48000, bitsPerSample: 16, channelCount: 2, numberOfFrames: 480 })
    } else {
      picture.fill(16 + (tick * 3) % 220, 0, 640 * 480)
      for (const source of sources) source.onFrame({ width: 640, height: 480, data: picture })
    }
    tick++
  }
  // Written against the clock, not a drifting interval: a late timer writes what is due.
  const { interval, unitsPerSecond } = RAW[kind]
  const started = Date.now()
  const timer = setInterval(() => {
    while (tick * interval <= Date.now() - started) write()
  }, interval / 2)
  await sleep(1500) // encoders and jitter buffers settle
  counting = true
  const cpuBefore = process.cpuUsage()
  const windowStart = process.hrtime.bigint()
  await sleep(seconds * 1000)
  counting = false
  const elapsed = Number(process.hrtime.bigint() - windowStart) / 1e9
  const cpu = process.cpuUsage(cpuBefore)
  clearInterval(timer)
  sinks.forEach(sink => sink.stop())
  tracks.forEach(track => track.stop())
  await closeAll([a, b])
  return {
    cpu_per_s: (cpu.user + cpu.system) / 1e6 / elapsed,
    decoded_share: decode ? decoded / (streams * unitsPerSecond * elapsed) : null
  }
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

  // Through a local TURN relay: connect time (median of 5), 8 MiB one way, and how long the
  // remote takes to see 'close' after destroy(). Over UDP, or over TCP to the server.
  async relay ({ Peer, extra }, overTcp = false) {
    const { startTurnServer, turnServerMissing } = require('../__test__/fixtures/turn-server')
    if (turnServerMissing) throw new Error(turnServerMissing)
    const turn = await startTurnServer()
    const iceServer = overTcp ? turn.tcpIceServer : turn.iceServer
    try {
      const connects = []
      for (let i = 0; i < 5; i++) {
        const { a, b, connectMs } = await relayRun(Peer, extra, iceServer)
        connects.push(connectMs)
        await closeAll([a, b])
      }
      const { a, b } = await relayRun(Peer, extra, iceServer)
      const size = 8 * MIB
      let received = 0
      const done = new Promise(resolve => b.on('data', chunk => { received += chunk.length; if (received >= size) resolve() }))
      const started = process.hrtime.bigint()
      await writeWithBackpressure(a, crypto.randomBytes(16 * 1024), size)
      await done
      const seconds = Number(process.hrtime.bigint() - started) / 1e9
      const closed = new Promise(resolve => b.once('close', resolve))
      const destroyedAt = process.hrtime.bigint()
      a.destroy()
      const closeMs = await Promise.race([closed.then(() => Number(process.hrtime.bigint() - destroyedAt) / 1e6), sleep(40000).then(() => null)])
      b.destroy()
      return { connect_median_ms: percentile(connects, 0.5), mb_per_s: size / 1e6 / seconds, remote_close_ms: closeMs }
    } finally {
      await turn.stop()
    }
  },
  relay_tcp (stack) { return cases.relay(stack, true) },

  // A remote that vanishes (its process killed): when the local peer reports it. The remote
  // is the same stack in a child process (__test__/fixtures/stack-peer.js).
  async detection ({ Peer, extra, name }) {
    const { child, ready, connect } = stackPeerChild(name === 'wrtc' ? 'wrtc' : 'native', [])
    await ready
    const local = new Peer(Object.assign({ initiator: true, config: LOCAL }, extra))
    connect(local)
    const errors = []
    local.on('error', err => errors.push(err.code))
    await new Promise(resolve => local.once('connect', resolve))
    await sleep(1000)
    const killedAt = process.hrtime.bigint()
    const since = () => Number(process.hrtime.bigint() - killedAt) / 1e6
    const disconnected = new Promise(resolve => local.on('iceStateChange', state => state === 'disconnected' && resolve(since())))
    const closed = new Promise(resolve => local.once('close', () => resolve(since())))
    child.kill('SIGKILL')
    const limit = sleep(60000).then(() => null)
    const result = { disconnected_ms: await Promise.race([disconnected, limit]), close_ms: await Promise.race([closed, limit]) }
    local.destroy()
    return Object.assign(result, { error_code: errors[0] || null })
  },

  // Memory per connected pair, 50 pairs held at once.
  async memory ({ Peer, extra }) {
    const pairs = 50
    global.gc && global.gc()
    await sleep(200)
    const before = process.memoryUsage()
    const peers = []
    let afterWarmUp
    for (let i = 0; i < pairs; i++) {
      const { a, b, connected } = pair(Peer, extra)
      await connected
      peers.push(a, b)
      if (i + 1 === WARM_UP_PAIRS) {
        await sleep(500)
        global.gc && global.gc()
        afterWarmUp = process.memoryUsage()
      }
    }
    await sleep(500)
    global.gc && global.gc()
    const after = process.memoryUsage()
    await closeAll(peers)
    return {
      rss_kb_per_pair: (after.rss - before.rss) / 1024 / pairs,
      // The slope from pair 11 to 50: what one more visitor costs once code is paged in and
      // the stack's threads exist (those one-time costs are in the figure above).
      marginal_rss_kb_per_pair: (after.rss - afterWarmUp.rss) / 1024 / (pairs - WARM_UP_PAIRS),
      heap_kb_per_pair: (after.heapUsed - before.heapUsed) / 1024 / pairs
    }
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

  // A server's view: `pairs` "server" peers (on one shared UDP port with `mux`, where the
  // stack has one: only this package) and as many "visitor" peers on their own ports, so each
  // server peer sees its own remote address. Pairs connect in concurrent batches until all
  // are up, a batch fails or the connect budget runs out (the largest count is reported);
  // then every pair exchanges one ordered message each way per second for `exchangeS`, and,
  // with `idleS`, all sit connected and silent that long (CPU per idle peer).
  async scale ({ Peer, extra, name }, { pairs, mux, exchangeS = 60, idleS = 0 }) {
    const fs = require('fs')
    const { monitorEventLoopDelay } = require('perf_hooks')
    const fdCount = () => fs.readdirSync('/proc/self/fd').length
    const batchSize = name === 'native' ? 250 : 50
    const connectBudgetMs = 180000
    const serverOpts = mux && name === 'native' ? { native: { udpMuxPort: 40000 + (process.pid % 20000) } } : {}
    const errors = []
    global.gc && global.gc()
    await sleep(200)
    const rssBefore = process.memoryUsage().rss
    const fdsBefore = fdCount()
    const started = Date.now()
    const live = []
    while (live.length < pairs && Date.now() - started < connectBudgetMs) {
      const batch = Array.from({ length: Math.min(batchSize, pairs - live.length) }, () => {
        const { a: visitor, b: server, connected } = pair(Peer, extra, {}, serverOpts)
        const entry = { server, visitor, connected, sent: [0, 0], received: [0, 0], misordered: 0 }
        for (const [side, peer] of [[0, server], [1, visitor]]) {
          peer.on('error', err => errors.push(err.code || err.message))
          peer.on('close', () => { entry.closed = true })
          // Messages carry their sequence number; sent[s] and received[s] count those to side s.
          peer.on('data', data => {
            if (Number(data.toString()) !== entry.received[side]) entry.misordered++
            entry.received[side]++
          })
        }
        return entry
      })
      const ok = await Promise.race([
        Promise.all(batch.map(entry => entry.connected)).then(() => true),
        sleep(30000).then(() => false)
      ])
      if (!ok || errors.length) {
        batch.forEach(entry => { entry.server.destroy(); entry.visitor.destroy() })
        break
      }
      live.push(...batch)
      // Progress on stdout: if the stack dies at some count, bench/run.js reports the last.
      process.stdout.write(JSON.stringify({ progress: { pairs: live.length } }) + '\n')
    }
    const connectS = (Date.now() - started) / 1000
    await sleep(1000)
    global.gc && global.gc()
    const peers = live.length * 2
    const rssKbPerPeer = (process.memoryUsage().rss - rssBefore) / 1024 / peers
    const fdsPerPeer = (fdCount() - fdsBefore) / peers

    // One message each way per pair per second, spread over the second in 20 slices.
    const delay = monitorEventLoopDelay({ resolution: 10 })
    delay.enable()
    let cpu = process.cpuUsage()
    const exchangeStarted = Date.now()
    for (let tick = 0; Date.now() - exchangeStarted < exchangeS * 1000; tick++) {
      const slice = tick % 20
      for (let i = slice; i < live.length; i += 20) {
        const entry = live[i]
        if (entry.closed) continue
        entry.visitor.send(String(entry.sent[0]++))
        entry.server.send(String(entry.sent[1]++))
      }
      await sleep(Math.max(0, exchangeStarted + (tick + 1) * 50 - Date.now()))
    }
    const deadline = Date.now() + 10000
    const pending = () => live.some(entry => entry.received[0] < entry.sent[0] || entry.received[1] < entry.sent[1])
    while (pending() && Date.now() < deadline) await sleep(50)
    const exchangeCpu = process.cpuUsage(cpu)
    const exchangeSeconds = (Date.now() - exchangeStarted) / 1000
    delay.disable()
    const sent = live.reduce((sum, entry) => sum + entry.sent[0] + entry.sent[1], 0)
    const received = live.reduce((sum, entry) => sum + entry.received[0] + entry.received[1], 0)
    const misordered = live.reduce((sum, entry) => sum + entry.misordered, 0)
    const closed = live.filter(entry => entry.closed).length

    let idleCpuUsPerPeerS
    if (idleS) {
      cpu = process.cpuUsage()
      await sleep(idleS * 1000)
      const idle = process.cpuUsage(cpu)
      idleCpuUsPerPeerS = (idle.user + idle.system) / peers / idleS
    }
    await closeAll(live.flatMap(entry => [entry.server, entry.visitor]))
    const result = {
      pairs: live.length,
      connect_s: connectS,
      rss_kb_per_peer: rssKbPerPeer,
      fds_per_peer: fdsPerPeer,
      // CPU as microseconds per peer per second of the exchange (1,000,000 is one core).
      exchange_cpu_us_per_peer_s: (exchangeCpu.user + exchangeCpu.system) / peers / exchangeSeconds,
      event_loop_delay_p99_ms: delay.percentile(99) / 1e6,
      sent,
      lost: sent - received,
      misordered,
      errors: errors.length,
      closed_early: closed,
      idle_cpu_us_per_peer_s: idleCpuUsPerPeerS
    }
    if (name === 'native' && (live.length < pairs || received !== sent || misordered || closed || errors.length)) {
      throw new Error(`${live.length} of ${pairs} pairs connected; sent ${sent}, received ${received}, misordered ${misordered}, ${closed} closed early, errors ${[...new Set(errors)].join(',')}: ${JSON.stringify(result)}`)
    }
    return result
  },
  scale_10k (stack) { return cases.scale(stack, { pairs: 5000, mux: true }) },
  scale_1k_idle (stack) { return cases.scale(stack, { pairs: 1000, mux: false, idleS: 60 }) },

  // How many pairs connect and exchange a message in one process, in batches of 100.
  // Raw media in real time: the CPU one stream costs to encode (sender alone) and to decode
  // (the receiver added), as a share of one core, and how many streams one process keeps in
  // real time, encoding and decoding them all (doubling until under 95% of audio or 90% of
  // video frames arrive decoded; at most 128 audio streams: with 256, libwebrtc's process
  // grew past 20 GB here). Audio: Opus 48 kHz stereo from 10 ms of PCM a write. Video:
  // 640x480 at 30 fps from I420; this package encodes H264, libwebrtc what it negotiates
  // between two of its own peers (VP8).
  async raw_media (stack) {
    const result = {}
    for (const [kind, limit, keptUp] of [['audio', 128, 0.95], ['video', 32, 0.9]]) {
      await rawMediaRun(stack, kind, 1, 3, false) // pages the codecs' code in
      const encoding = await rawMediaRun(stack, kind, 1, 6, false)
      const both = await rawMediaRun(stack, kind, 1, 6, true)
      const baseline = await rawMediaRun(stack, kind, 0, 3, false)
      let sustained = 0
      for (let streams = 1; streams <= limit; streams *= 2) {
        const run = await rawMediaRun(stack, kind, streams, 4, true)
        process.stderr.write(`${kind} × ${streams}: ${JSON.stringify(run)}, rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB\n`)
        if (run.decoded_share < keptUp) break
        sustained = streams
      }
      result[kind] = {
        encode_core_share: encoding.cpu_per_s - baseline.cpu_per_s,
        decode_core_share: both.cpu_per_s - encoding.cpu_per_s,
        decoded_share: both.decoded_share,
        streams_in_real_time: sustained,
        streams_limit: limit
      }
    }
    return result
  },

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
