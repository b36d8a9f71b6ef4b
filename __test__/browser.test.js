'use strict'
// A Node peer against simple-peer 9.11.1 running in Debian's headless Chromium, with its
// default mDNS hiding of host candidates on. Needs /usr/bin/chromium (CI installs it).
const test = require('node:test')
const assert = require('node:assert/strict')
const { Peer, LOCAL, waitFor, withTimeout, until, destroyAll, destroyMade, track, drain } = require('./helpers')
const harness = require('./browser/harness')
const { sine, dominantFrequency } = require('./fixtures/tones')
const { QUADRANTS, quadrantPicture, quadrantError, quadrantColours } = require('./fixtures/pictures')

const skip = harness.chromiumAvailable()
  ? false
  : `Chromium not found at ${harness.CHROMIUM}: install it (apt-get install chromium) to run the browser tests`

let session

test.before(async () => {
  if (!skip) session = await harness.launch()
})

test.after(async () => {
  if (session) await session.close()
})

// Node peers are destroyed after each test even when it fails, so a failure cannot leave a
// live peer holding the process open.
test.afterEach(destroyMade)

function browserPair ({ nodeOpts = {}, ...rest } = {}) {
  return harness.browserPair(session, () => track(new Peer(Object.assign({ config: LOCAL }, nodeOpts))), rest)
}

async function connected ({ node, browser }) {
  await Promise.all([waitFor(node, 'connect', 20000), waitFor(browser, 'connect', 20000)])
}

async function finish ({ page, node }) {
  await destroyAll(node)
  await page.close()
}

for (const [name, nodeOpts, browserOpts] of [
  ['browser initiator, trickle', {}, { initiator: true }],
  ['Node initiator, trickle', { initiator: true }, {}],
  ['browser initiator, no trickle', { trickle: false }, { initiator: true, trickle: false }],
  ['Node initiator, no trickle', { initiator: true, trickle: false }, { trickle: false }]
]) {
  test(`${name}: connects and exchanges text and binary both ways`, { skip, timeout: 60000 }, async () => {
    const pair = await browserPair({ nodeOpts, browserOpts: Object.assign({ objectMode: true }, browserOpts) })
    await connected(pair)
    const { page, node, browser } = pair
    assert.equal(node.remoteFamily, 'IPv4')

    // Node → browser: a string stays a string message; binary stays byte-exact.
    let got = waitFor(browser, 'data')
    node.send('héllo from node')
    assert.deepEqual(await got, { kind: 'string', bytes: 'héllo from node' })
    got = waitFor(browser, 'data')
    node.send(Buffer.from([0, 1, 254, 255]))
    assert.deepEqual(await got, { kind: 'binary', bytes: [0, 1, 254, 255] })

    // Browser → Node.
    got = waitFor(node, 'data')
    await page.evaluate(() => window.browserPeer.send('string', 'héllo from chromium'))
    assert.equal((await got).toString(), 'héllo from chromium')
    got = waitFor(node, 'data')
    await page.evaluate(() => window.browserPeer.send('binary', [9, 8, 0, 255]))
    assert.deepEqual(await got, Buffer.from([9, 8, 0, 255]))
    await finish(pair)
  })
}

test('16 MiB each way through the streams, byte-exact, with backpressure', { skip, timeout: 120000 }, async () => {
  const size = 16 * 1024 * 1024
  const pair = await browserPair({ browserOpts: { initiator: true } })
  await connected(pair)
  const { page, node } = pair

  // Browser → Node.
  const inbound = drain(node, size, 90000)
  const expected = require('crypto').createHash('sha256')
  for (let offset = 0; offset < size; offset += 64 * 1024) {
    const chunk = Buffer.alloc(64 * 1024)
    for (let i = 0; i < chunk.length; i++) chunk[i] = (offset + i) & 0xff
    expected.update(chunk)
  }
  await page.evaluate(n => window.browserPeer.streamOut(n), size)
  assert.equal((await inbound).digest, expected.digest('hex'))

  // Node → browser.
  // The page's counter must be listening before the first byte leaves Node.
  await page.evaluate(n => { window.streamInDone = window.browserPeer.streamIn(n) }, size)
  const received = page.evaluate(() => window.streamInDone)
  let offset = 0
  let sawBackpressure = false
  await withTimeout(new Promise(resolve => {
    const writeMore = () => {
      while (offset < size) {
        const chunk = Buffer.alloc(64 * 1024)
        for (let i = 0; i < chunk.length; i++) chunk[i] = (offset + i) & 0xff
        offset += chunk.length
        if (!node.write(chunk)) {
          sawBackpressure = true
          return node.once('drain', writeMore)
        }
      }
      resolve()
    }
    writeMore()
  }), 90000, 'writing 16 MiB to the browser')
  assert.equal(await received, size)
  assert.ok(sawBackpressure, 'write() returned false at least once')
  await finish(pair)
})

test('destroy on either side closes the other within seconds', { skip, timeout: 60000 }, async () => {
  for (const side of ['node', 'browser']) {
    const pair = await browserPair({ browserOpts: { initiator: true } })
    await connected(pair)
    const started = Date.now()
    if (side === 'node') {
      const closed = waitFor(pair.browser, 'close', 10000)
      pair.node.destroy()
      await closed
    } else {
      const closed = waitFor(pair.node, 'close', 10000)
      await pair.page.evaluate(() => window.browserPeer.destroy())
      await closed
    }
    assert.ok(Date.now() - started < 5000)
    await finish(pair)
  }
})

test('negotiate() from the browser side renegotiates and the channel stays open', { skip, timeout: 60000 }, async () => {
  const pair = await browserPair({ nodeOpts: { initiator: true } })
  await connected(pair)
  const { page, node } = pair
  const negotiated = waitFor(node, 'negotiated', 20000)
  await page.evaluate(() => window.browserPeer.negotiate())
  await negotiated
  const got = waitFor(node, 'data')
  await page.evaluate(() => window.browserPeer.send('string', 'still here'))
  assert.equal((await got).toString(), 'still here')
  await finish(pair)
})

// ICE restarts between Node and the page, each from the side that makes the offer (an
// answerer cannot restart alone): the page as an app would with simple-peer
// (`_pc.restartIce()`, then `negotiate()`), Node with `restartIce()`. Both sides' ICE
// credentials change and data flows both ways afterwards.
for (const restarter of ['page', 'node']) {
  test(`an ICE restart from the ${restarter === 'page' ? 'page' : 'Node peer'}: fresh credentials, the channel stays open both ways`, { skip, timeout: 60000 }, async () => {
    const pair = await browserPair(restarter === 'page' ? { browserOpts: { initiator: true, objectMode: true } } : { nodeOpts: { initiator: true }, browserOpts: { objectMode: true } })
    await connected(pair)
    const { page, node, browser } = pair
    const nodeUfrag = () => /a=ice-ufrag:(\S+)/.exec(node._pc.localDescription.sdp)[1]
    const pageUfrag = () => page.evaluate(() => window.browserPeer.localUfrag())
    const before = { node: nodeUfrag(), page: await pageUfrag() }
    const negotiated = waitFor(node, 'negotiated', 20000)
    if (restarter === 'page') await page.evaluate(() => window.browserPeer.restartIce())
    else node.restartIce()
    await negotiated
    assert.ok(await until(async () => (await pageUfrag()) !== before.page, 10000), 'the page\'s credentials changed')
    assert.notEqual(nodeUfrag(), before.node, 'Node\'s credentials changed')
    let got = waitFor(node, 'data')
    await page.evaluate(() => window.browserPeer.send('string', 'page, after the restart'))
    assert.equal((await got).toString(), 'page, after the restart')
    got = waitFor(browser, 'data')
    node.send('node, after the restart')
    assert.deepEqual(await got, { kind: 'string', bytes: 'node, after the restart' })
    await finish(pair)
  })
}

// simple-peer keeps listening to every channel it has seen; webrtc would hold every read on
// the connection behind an unread channel (more than its 256-event queue here).
test('messages on a second channel the page opens reach the stream, and the first still works', { skip, timeout: 60000 }, async () => {
  const pair = await browserPair({ browserOpts: { initiator: true, objectMode: true } })
  await connected(pair)
  const { page, node } = pair
  const count = 600
  const received = []
  node.on('data', data => received.push(data.toString()))
  await page.evaluate(async count => {
    const extra = window.peer._pc.createDataChannel('extra')
    await new Promise(resolve => { extra.onopen = resolve })
    for (let i = 0; i < count; i++) extra.send(`extra ${i}`)
  }, count)
  assert.ok(await until(() => received.length >= count, 20000), `${received.length} of ${count} arrived`)
  assert.deepEqual(received, Array.from({ length: count }, (_, i) => `extra ${i}`))

  const got = waitFor(node, 'data')
  await page.evaluate(() => window.browserPeer.send('string', 'first channel'))
  assert.equal((await got).toString(), 'first channel')
  const echoed = waitFor(pair.browser, 'data')
  node.send('back on the first channel')
  assert.deepEqual(await echoed, { kind: 'string', bytes: 'back on the first channel' })
  await finish(pair)
})

test('malformed signals relayed from the page give a coded error in Node', { skip, timeout: 60000 }, async () => {
  const cases = [
    [{ type: 'offer', sdp: 'v=0\r\ngarbage\r\n' }, 'ERR_SET_REMOTE_DESCRIPTION'],
    ['{"nonsense":true}', 'ERR_SIGNALING']
  ]
  for (const [bad, code] of cases) {
    const pair = await browserPair({ browserOpts: { initiator: true }, filterToNode: () => bad })
    assert.equal((await waitFor(pair.node, 'error', 20000)).code, code)
    await finish(pair)
  }
})

// Media: Node streams encoded files to the page; the page streams its canvas to Node.
const { MediaStream, MediaStreamTrack, readMediaFile } = Peer
const MEDIA = require('path').join(__dirname, 'fixtures', 'media')

// Connects a pair whose page sends one track, and resolves with that track in Node.
async function pageTrack (pair) {
  const tracks = []
  pair.node.on('track', track => tracks.push(track))
  await connected(pair)
  assert.ok(await until(() => tracks.length === 1, 20000), 'a track event')
  return tracks[0]
}

async function pageStats (page, until, what, ms = 20000) {
  const deadline = Date.now() + ms
  for (;;) {
    const stats = await page.evaluate(() => window.browserPeer.mediaStats())
    if (until(stats)) return stats
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(stats)}`)
    await new Promise(resolve => setTimeout(resolve, 250))
  }
}

async function play (track, file, seconds) {
  const deadline = Date.now() + seconds * 1000
  while (Date.now() < deadline) {
    for await (const sample of readMediaFile(require('path').join(MEDIA, file), { realtime: true, fps: 15 })) {
      track.writeSample(sample.data, { duration: sample.duration })
      if (Date.now() > deadline) return
    }
  }
}

test('a VP8 file and an Opus file sent from Node play in the page', { skip, timeout: 60000 }, async () => {
  const video = new MediaStreamTrack({ kind: 'video', codec: 'vp8' })
  const audio = new MediaStreamTrack({ kind: 'audio', codec: 'opus' })
  const pair = await browserPair({ nodeOpts: { initiator: true, stream: new MediaStream([video, audio]) } })
  await connected(pair)
  await Promise.all([play(video, 'vp8.ivf', 4), play(audio, 'opus.ogg', 4)])
  const stats = await pageStats(pair.page, s => s.inbound.video && s.inbound.video.framesDecoded > 10 &&
    s.inbound.audio && s.inbound.audio.totalSamplesReceived > 0, 'decoded frames and audio samples')
  assert.ok(stats.inbound.video.framesDecoded > 10, `framesDecoded ${stats.inbound.video.framesDecoded}`)
  assert.equal(stats.inbound.video.frameWidth, 160)
  assert.ok(stats.inbound.audio.packetsReceived > 50, `audio packets ${stats.inbound.audio.packetsReceived}`)
  assert.ok(stats.inbound.audio.totalSamplesReceived > 48000, `audio samples ${stats.inbound.audio.totalSamplesReceived}`)
  await finish(pair)
})

test('the page\'s canvas.captureStream() arrives in Node as RTP and decodable keyframes; PLI gets a new one', { skip, timeout: 60000 }, async () => {
  const pair = await browserPair({ browserOpts: { initiator: true, canvas: true } })
  const track = await pageTrack(pair)
  assert.equal(track.kind, 'video')
  const packets = []
  const frames = []
  track.on('rtp', packet => packets.push(packet))
  track.on('frame', frame => frames.push(frame))
  assert.ok(await until(() => frames.filter(f => f.keyframe).length > 0 && packets.length > 60, 20000),
    `keyframe and packets (${frames.length} frames, ${packets.length} packets)`)

  // Once the stream is steady, each packet's sequence number is the last one plus one
  // (the first packets may be repeated while Chromium's sender starts up).
  const ssrc = packets[packets.length - 1].readUInt32BE(8)
  const sequence = packets.filter(p => p.readUInt32BE(8) === ssrc).map(p => p.readUInt16BE(2)).slice(-40)
  const steps = sequence.slice(1).map((n, i) => (n - sequence[i] + 0x10000) & 0xffff)
  assert.ok(steps.every(step => step === 1), `sequence steps ${steps}`)

  // A decodable VP8 keyframe: start code 9d 01 2a, then the canvas's 160x120.
  const keyframe = frames.find(f => f.keyframe)
  assert.equal(track.codec, 'vp8')
  assert.deepEqual([...keyframe.data.subarray(3, 6)], [0x9d, 0x01, 0x2a])
  assert.equal(keyframe.data.readUInt16LE(6) & 0x3fff, 160)
  assert.equal(keyframe.data.readUInt16LE(8) & 0x3fff, 120)

  // requestKeyFrame() sends a PLI: the page counts it and answers with a new keyframe.
  const before = await pair.page.evaluate(() => window.browserPeer.mediaStats())
  const keyframesBefore = frames.filter(f => f.keyframe).length
  assert.equal(track.requestKeyFrame(), true)
  await pageStats(pair.page, s => s.outbound.video.pliCount > (before.outbound.video.pliCount || 0), 'the PLI')
  assert.ok(await until(() => frames.filter(f => f.keyframe).length > keyframesBefore, 10000), 'a keyframe after the PLI')
  await finish(pair)
})

// Raw audio with a browser: PCM from Node played by Chromium, and Chromium's audio decoded
// to PCM in Node (Opus encoded and decoded in the addon).
test('a 440 Hz tone written as PCM in Node peaks at 440 Hz in the page\'s AnalyserNode', { skip, timeout: 60000 }, async () => {
  const audio = new MediaStreamTrack({ kind: 'audio' })
  const pair = await browserPair({ nodeOpts: { initiator: true, stream: new MediaStream([audio]) } })
  await connected(pair)
  const tone = sine(440, 48000, 48000 * 6)
  const started = Date.now()
  let peak = null
  const peaks = []
  for (let offset = 0; offset < tone.length; offset += 480) {
    audio.writePcm(tone.subarray(offset, offset + 480))
    const elapsed = Date.now() - started
    if (elapsed > 2000 && offset % 48000 === 0) {
      peak = await pair.page.evaluate(() => window.browserPeer.audioPeak())
      peaks.push(peak)
      if (peak.level > -60 && Math.abs(peak.frequency - 440) <= peak.binHz) break
    }
    await new Promise(resolve => setTimeout(resolve, Math.max(0, started + offset / 48 - Date.now())))
  }
  console.log(`# page's analyser: ${JSON.stringify(peaks)}`)
  assert.ok(peak && peak.level > -60 && Math.abs(peak.frequency - 440) <= peak.binHz, `peaks ${JSON.stringify(peaks)}`)
  await finish(pair)
})

test('the page\'s 660 Hz OscillatorNode arrives in Node as PCM at 660 Hz', { skip, timeout: 60000 }, async () => {
  const pair = await browserPair({ browserOpts: { initiator: true, tone: 660 } })
  const remote = await pageTrack(pair)
  assert.equal(remote.kind, 'audio')
  const chunks = []
  let received = 0
  remote.on('pcm', ({ samples, channelCount }) => {
    const mono = channelCount === 1 ? samples : samples.filter((_, index) => index % channelCount === 0)
    chunks.push(mono)
    received += mono.length
  })
  // The first half second may hold the sender's ramp-up; judge the second after it.
  assert.ok(await until(() => received >= 48000 * 1.5, 20000), `${received} samples decoded`)
  const all = new Int16Array(received)
  let at = 0
  for (const chunk of chunks) { all.set(chunk, at); at += chunk.length }
  const found = dominantFrequency(all.subarray(24000), 48000)
  console.log(`# decoded from the page: ${found} Hz`)
  assert.ok(Math.abs(found - 660) <= 10, `found ${found} Hz`)
  await finish(pair)
})

// Raw video with a browser: I420 from Node shown by Chromium, and Chromium's canvas decoded
// to I420 in Node (H264 encoded and decoded in the addon).
test('I420 quadrants written in Node show in their colours on the page\'s canvas', { skip, timeout: 60000 }, async () => {
  const video = new MediaStreamTrack({ kind: 'video', codec: 'h264' })
  const pair = await browserPair({ nodeOpts: { initiator: true, stream: new MediaStream([video]) } })
  await connected(pair)
  const picture = quadrantPicture(320, 240)
  const near = (got, want) => got.every((value, c) => Math.abs(value - want[c]) <= 24)
  let seen = null
  const started = Date.now()
  for (let frame = 0; Date.now() - started < 15000; frame++) {
    video.writeFrame(picture)
    if (frame % 15 === 14) {
      seen = await pair.page.evaluate(() => window.browserPeer.videoColours())
      if (seen && seen.width === 320 && QUADRANTS.every(({ rgb }, index) => near(seen.colours[index], rgb))) break
    }
    await new Promise(resolve => setTimeout(resolve, Math.max(0, started + (frame + 1) * 1000 / 30 - Date.now())))
  }
  console.log(`# the page drew: ${JSON.stringify(seen)}`)
  assert.ok(seen, 'the page shows the video')
  assert.deepEqual([seen.width, seen.height], [320, 240])
  QUADRANTS.forEach(({ name, rgb }, index) => assert.ok(near(seen.colours[index], rgb), `${name}: ${seen.colours[index]}`))
  await finish(pair)
})

test('the page\'s canvas of quadrants, sent as H264, decodes in Node to I420 in their colours', { skip, timeout: 60000 }, async () => {
  const pair = await browserPair({ browserOpts: { initiator: true, quadrants: true, preferH264: true } })
  const remote = await pageTrack(pair)
  assert.equal(remote.codec, 'h264')
  const pictures = []
  remote.on('i420', picture => pictures.push(picture))
  assert.ok(await until(() => pictures.length >= 20, 20000), `${pictures.length} pictures decoded`)
  const last = pictures[pictures.length - 1]
  // The pixels come as Chromium encoded them: BT.709, full range, for a canvas.
  const error = quadrantError(last, 'yuv709Full')
  console.log(`# decoded from the page: ${last.width}x${last.height}, ${JSON.stringify(quadrantColours(last))}, off by ${error}`)
  assert.deepEqual([last.width, last.height], [320, 240])
  assert.ok(error <= 12, `colours off by ${error}: ${JSON.stringify(quadrantColours(last))}`)
  await finish(pair)
})
