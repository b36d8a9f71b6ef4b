'use strict'
// What simple-peer 9.11.1's test/common.js gives its cases, for Node without wrtc: a local
// config (no STUN, no TURN: the tests run in a private namespace), getMediaStream() as the
// original makes it under wrtc (two tracks of one nonstandard RTCVideoSource), here fed with
// 100x100 I420 pictures at 30 fps as the browser branch's canvas.captureStream(30) is, and
// tape's counted assertions (t.plan) on top of node:test.
const assert = require('node:assert/strict')
const Peer = require('../..')

const { MediaStream } = Peer
const { RTCVideoSource } = Peer.nonstandard

const config = Object.freeze({ iceServers: [] })

const FRAME_INTERVAL_MS = 1000 / 30
const SIZE = 100

const sources = new Map() // RTCVideoSource -> its tracks
let feeder = null
let frameNumber = 0

// Nothing to load: the pictures are drawn here. Kept for the files' before().
async function loadFrames () {}

// simple-peer's getMediaStream() under wrtc, line for line: one source, two tracks.
function getMediaStream () {
  const source = new RTCVideoSource()
  const tracks = [source.createTrack(), source.createTrack()]
  sources.set(source, tracks)
  if (!feeder) {
    feeder = setInterval(feedFrame, FRAME_INTERVAL_MS)
    feeder.unref()
  }
  return new MediaStream(tracks)
}

// A grey picture whose brightness moves, so every frame differs, to every source with a
// live track.
function feedFrame () {
  const data = new Uint8Array(SIZE * SIZE * 3 / 2).fill(128)
  data.fill(16 + (frameNumber++ * 4) % 220, 0, SIZE * SIZE)
  for (const [source, tracks] of sources) {
    if (tracks.every(track => track.readyState === 'ended')) sources.delete(source)
    else source.onFrame({ width: SIZE, height: SIZE, data })
  }
}

// Stops every track getMediaStream() made; for after().
function stopMedia () {
  for (const tracks of sources.values()) tracks.forEach(track => track.stop())
  sources.clear()
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
