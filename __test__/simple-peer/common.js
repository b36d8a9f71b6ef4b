'use strict'
// What simple-peer 9.11.1's test/common.js gives its cases, for Node without wrtc: a local
// config (no STUN, no TURN: the tests run in a private namespace), a MediaStream of two VP8
// tracks fed with fixture frames at 30 fps, and tape's counted assertions (t.plan) on top
// of node:test.
const assert = require('node:assert/strict')
const path = require('path')
const Peer = require('../..')

const { MediaStream, MediaStreamTrack, readMediaFile } = Peer

const config = Object.freeze({ iceServers: [] })

const VP8_FIXTURE = path.join(__dirname, '..', 'fixtures', 'media', 'vp8.ivf')
const FRAME_INTERVAL_MS = 1000 / 30

let frames = null
const fedTracks = new Set()
let feeder = null
let nextFrame = 0

// Reads the fixture's frames once; call from before() in files that use getMediaStream().
async function loadFrames () {
  if (frames) return
  const loaded = []
  for await (const sample of readMediaFile(VP8_FIXTURE)) loaded.push(sample.data)
  frames = loaded
}

// A stream of two VP8 tracks, as common.getMediaStream() makes from one RTCVideoSource: both
// tracks carry the same frames, like a camera a Node program streams from a file.
function getMediaStream () {
  if (!frames) throw new Error('call loadFrames() in before() first')
  const tracks = [
    new MediaStreamTrack({ kind: 'video', codec: 'vp8' }),
    new MediaStreamTrack({ kind: 'video', codec: 'vp8' })
  ]
  tracks.forEach(track => fedTracks.add(track))
  if (!feeder) {
    feeder = setInterval(feedFrame, FRAME_INTERVAL_MS)
    feeder.unref()
  }
  return new MediaStream(tracks)
}

function feedFrame () {
  const frame = frames[nextFrame]
  nextFrame = (nextFrame + 1) % frames.length
  for (const track of fedTracks) {
    if (track.readyState === 'ended') fedTracks.delete(track)
    else track.writeSample(frame, { duration: FRAME_INTERVAL_MS })
  }
}

// Stops every track getMediaStream() made; for after().
function stopMedia () {
  for (const track of fedTracks) track.stop()
  fedTracks.clear()
  clearInterval(feeder)
  feeder = null
}

/**
 * tape's t.plan(count) over node:test: `const t = plan(count)`, then t.pass/ok/equal/...;
 * `await t.done` settles once `count` assertions have run (failing on the first failed one,
 * on a timeout, or on assertions past the plan seen within a short grace period). Without a
 * count, t.end() settles it, as in tape.
 */
function plan (count = null, { timeout = 30000 } = {}) {
  const GRACE_MS = 100
  let seen = 0
  let finished = false
  let settle
  const done = new Promise((resolve, reject) => {
    settle = err => err ? reject(err) : resolve()
  })
  const timer = setTimeout(() => {
    finish(new Error(`timed out after ${timeout} ms: ${seen} of ${count === null ? 't.end()' : count} assertions`))
  }, timeout)

  function finish (err) {
    if (finished) return
    finished = true
    clearTimeout(timer)
    if (err) return settle(err)
    // Like tape, more assertions than planned are a failure: watch briefly for any.
    setTimeout(() => settle(seen > count && count !== null ? new Error(`plan != count: ${count} planned, ${seen} run`) : null), GRACE_MS)
  }

  function check (fn, message) {
    seen++
    try {
      fn()
    } catch (err) {
      err.message = `${message || 'assertion'}: ${err.message}`
      finish(err)
      return
    }
    if (count !== null && seen === count) finish()
  }

  const t = {
    done,
    get count () { return seen },
    pass (message) { check(() => {}, message) },
    fail (message) { check(() => assert.fail(message), message) },
    ok (value, message) { check(() => assert.ok(value), message) },
    equal (actual, expected, message) { check(() => assert.equal(actual, expected), message) },
    deepEqual (actual, expected, message) { check(() => assert.deepEqual(actual, expected), message) },
    doesNotThrow (fn, message) { check(fn, message) },
    end () { finish() }
  }
  return t
}

// Peers a case made with peer(): destroyed when it ends (afterEach), as the originals'
// t.on('end') handlers do.
const made = []
function peer (opts) {
  const created = new Peer(Object.assign({ config }, opts))
  made.push(created)
  return created
}
function destroyMade () {
  made.splice(0).forEach(created => created.destroy())
}

// The relay most cases use: every signal to the other peer while it lives.
function link (peer1, peer2) {
  peer1.on('signal', data => { if (!peer2.destroyed) peer2.signal(data) })
  peer2.on('signal', data => { if (!peer1.destroyed) peer1.signal(data) })
}

module.exports = { Peer, config, peer, destroyMade, link, loadFrames, getMediaStream, stopMedia, plan }
