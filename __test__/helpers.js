'use strict'
// Shared test plumbing: real peers, relayed signals, and waits that fail instead of hanging.
const crypto = require('crypto')
const Peer = require('..')

// Every test peer stays inside the private namespace: no STUN, no TURN.
const LOCAL = Object.freeze({ iceServers: [] })

function waitFor (emitter, event, ms = 10000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.removeListener(event, onEvent)
      reject(new Error(`timed out after ${ms} ms waiting for '${event}'`))
    }, ms)
    function onEvent (...args) {
      clearTimeout(timer)
      resolve(args.length > 1 ? args : args[0])
    }
    emitter.once(event, onEvent)
  })
}

function withTimeout (promise, ms, what) {
  let timer
  return Promise.race([
    promise,
    new Promise((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)
    })
  ]).finally(() => clearTimeout(timer))
}

// Polls until `condition()` (or the promise it returns) holds; false if it never did
// within `ms`.
async function until (condition, ms = 5000) {
  const deadline = Date.now() + ms
  while (!(await condition())) {
    if (Date.now() > deadline) return false
    await new Promise(resolve => setTimeout(resolve, 10))
  }
  return true
}

// Relays every signal from one peer to the other, optionally through a filter.
function relay (from, to, filter = data => data) {
  from.on('signal', data => {
    const passed = filter(data)
    if (passed && !to.destroyed) to.signal(passed)
  })
}

// Peers made by makePair (and connectedPair), or handed to track(), that destroyMade has
// not yet seen.
const made = []

function track (peer) {
  made.push(peer)
  return peer
}

function makePair (optsA = {}, optsB = {}) {
  const a = track(new Peer(Object.assign({ initiator: true, config: LOCAL }, optsA)))
  const b = track(new Peer(Object.assign({ config: LOCAL }, optsB)))
  return { a, b }
}

// For test.afterEach: a test that fails before its own cleanup must not leave live peers
// holding the process open.
function destroyMade () {
  return destroyAll(...made.splice(0))
}

async function connectedPair (optsA, optsB) {
  const { a, b } = makePair(optsA, optsB)
  relay(a, b)
  relay(b, a)
  await Promise.all([waitFor(a, 'connect'), waitFor(b, 'connect')])
  return { a, b }
}

async function destroyAll (...peers) {
  await Promise.all(peers.map(peer => {
    if (peer.destroyed) return null
    const closed = waitFor(peer, 'close', 5000)
    peer.destroy()
    return closed
  }))
}

// Reads `bytes` bytes from a readable stream, hashing them.
function drain (stream, bytes, ms = 60000) {
  return withTimeout(new Promise((resolve, reject) => {
    const hash = crypto.createHash('sha256')
    let received = 0
    stream.on('data', chunk => {
      hash.update(chunk)
      received += chunk.length
      if (received >= bytes) resolve({ received, digest: hash.digest('hex') })
    })
    stream.on('error', reject)
  }), ms, `reading ${bytes} bytes`)
}

function randomChunks (total, size, seed = 'seed') {
  const chunks = []
  let counter = 0
  for (let offset = 0; offset < total; offset += size) {
    const length = Math.min(size, total - offset)
    const chunk = Buffer.alloc(length)
    let block = Buffer.alloc(0)
    for (let i = 0; i < length; i += block.length) {
      block = crypto.createHash('sha256').update(seed + counter++).digest()
      block.copy(chunk, i)
    }
    chunks.push(chunk)
  }
  const digest = crypto.createHash('sha256')
  chunks.forEach(chunk => digest.update(chunk))
  return { chunks, digest: digest.digest('hex') }
}

module.exports = {
  Peer,
  LOCAL,
  waitFor,
  withTimeout,
  until,
  relay,
  makePair,
  connectedPair,
  track,
  destroyMade,
  destroyAll,
  drain,
  randomChunks
}
