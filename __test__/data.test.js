'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('crypto')
const { Readable } = require('stream')
const {
  waitFor, withTimeout, until, relay, makePair, connectedPair, destroyAll, destroyMade, drain, randomChunks
} = require('./helpers')

test.afterEach(destroyMade)

function collect (peer, count, ms = 10000) {
  return withTimeout(new Promise(resolve => {
    const got = []
    peer.on('data', data => {
      got.push(data)
      if (got.length === count) resolve(got)
    })
  }), ms, `${count} messages`)
}

const bytes = [0, 1, 2, 127, 128, 254, 255]
function inputs () {
  const backing = new ArrayBuffer(16)
  new Uint8Array(backing).set([9, 9, ...bytes, 9])
  return [
    ['string', 'héllo wörld ✓', Buffer.from('héllo wörld ✓')],
    ['Buffer', Buffer.from(bytes), Buffer.from(bytes)],
    ['Uint8Array', new Uint8Array(bytes), Buffer.from(bytes)],
    ['Uint8Array view with an offset', new Uint8Array(backing, 2, bytes.length), Buffer.from(bytes)],
    ['Uint16Array', new Uint16Array([1, 0xffff]), Buffer.from(new Uint16Array([1, 0xffff]).buffer)],
    ['Float64Array', new Float64Array([Math.PI]), Buffer.from(new Float64Array([Math.PI]).buffer)],
    ['DataView', new DataView(backing, 2, 3), Buffer.from(bytes.slice(0, 3))],
    ['ArrayBuffer', new Uint8Array(bytes).buffer, Buffer.from(bytes)]
  ]
}

test('every send() input type arrives byte-exact as a Buffer, in both directions', async () => {
  const { a, b } = await connectedPair()
  for (const [from, to] of [[a, b], [b, a]]) {
    const cases = inputs()
    const received = collect(to, cases.length)
    cases.forEach(([, input]) => from.send(input))
    const got = await received
    cases.forEach(([name, , expected], i) => {
      assert.ok(Buffer.isBuffer(got[i]), `${name} arrives as a Buffer`)
      assert.deepEqual(got[i], expected, name)
    })
  }
  await destroyAll(a, b)
})

test('objectMode: strings arrive as strings and binary as Buffers', async () => {
  const { a, b } = await connectedPair({ objectMode: true }, { objectMode: true })
  const received = collect(b, 5)
  a.send('text')
  a.send(Buffer.from([1, 2]))
  a.write('written text')
  // Empty messages exist only as objects: a byte stream has no empty chunks to emit.
  a.send('')
  a.send(Buffer.alloc(0))
  const got = await received
  assert.equal(got[0], 'text')
  assert.deepEqual(got[1], Buffer.from([1, 2]))
  assert.equal(got[2], 'written text')
  assert.equal(got[3], '')
  assert.deepEqual(got[4], Buffer.alloc(0))
  await destroyAll(a, b)
})

test('data written or sent before connect arrives after it, in order', async () => {
  const { a, b } = makePair()
  const received = collect(b, 4)
  a.send('sent-1')
  a.write('written-2')
  a.write(Buffer.from('written-3'))
  b.send('from the non-initiator before it even has a channel')
  const back = collect(a, 1)
  relay(a, b)
  relay(b, a)
  a.send('sent-4')
  assert.deepEqual((await received).map(String), ['sent-1', 'written-2', 'written-3', 'sent-4'])
  assert.equal(String((await back)[0]), 'from the non-initiator before it even has a channel')
  await destroyAll(a, b)
})

test('a 10 MiB pipe arrives byte-exact, big writes split into messages', async () => {
  const { a, b } = await connectedPair()
  const total = 10 * 1024 * 1024
  const { chunks, digest } = randomChunks(total, 1024 * 1024) // 1 MiB writes get split
  const result = drain(b, total)
  const closed = waitFor(b, 'close', 60000) // a's end() flushes, then closes
  Readable.from(chunks).pipe(a)
  const { received, digest: got } = await result
  assert.equal(received, total)
  assert.equal(got, digest)
  await closed
})

test('a 100 MiB pipe runs in bounded memory', async () => {
  const { a, b } = await connectedPair()
  const total = 100 * 1024 * 1024
  const chunk = crypto.randomBytes(64 * 1024)
  let produced = 0
  const source = new Readable({
    read () {
      produced += chunk.length
      this.push(produced <= total ? chunk : null)
    }
  })
  global.gc && global.gc()
  const before = process.memoryUsage().rss
  let peak = before
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss) }, 50)
  const result = drain(b, total, 120000)
  const closed = waitFor(b, 'close', 120000)
  source.pipe(a)
  const { received } = await result
  clearInterval(sampler)
  assert.equal(received, total)
  const grew = (peak - before) / (1024 * 1024)
  assert.ok(grew < 80, `RSS grew ${grew.toFixed(1)} MiB moving 100 MiB`)
  await closed
})

test('write() reports backpressure while the remote is slow, and drain follows', async () => {
  const { a, b } = await connectedPair()
  b.pause() // the receiver stops reading: Rust stops reading too, SCTP's window closes
  const chunk = Buffer.alloc(16 * 1024, 7)
  let written = 0
  while (a.write(chunk)) {
    written += chunk.length
    if (written > 64 * 1024 * 1024) break
  }
  assert.ok(written < 64 * 1024 * 1024, 'write() returned false before 64 MiB')
  assert.ok(a.bufferSize > 0)
  const drained = waitFor(a, 'drain')
  const all = drain(b, written + chunk.length)
  b.resume()
  await drained
  const { received } = await all
  assert.equal(received, written + chunk.length)
  await destroyAll(a, b)
})

test('a slow reader bounds memory: the sender holds the data, not the receiver', async () => {
  const { a, b } = await connectedPair()
  b.pause()
  const chunk = Buffer.alloc(16 * 1024, 1)
  const count = 1920 // 30 MiB queued with send(), ignoring backpressure
  for (let i = 0; i < count; i++) a.send(chunk)
  await new Promise(resolve => setTimeout(resolve, 2000))
  // The receiver takes at most: 1 MiB unacknowledged in JS (+ one batch), ~512 messages in
  // webrtc's queues, and SCTP's 1 MiB window. The rest waits at the sender.
  assert.ok(b.readableLength <= 2 * 1024 * 1024, `receiver's stream buffered ${b.readableLength}`)
  assert.ok(a.bufferSize >= 16 * 1024 * 1024, `sender still holds ${a.bufferSize}`)
  const all = drain(b, count * chunk.length)
  b.resume()
  assert.equal((await all).received, count * chunk.length)
  await destroyAll(a, b)
})

test('messages of mixed sizes sent in one burst keep their bytes, boundaries and types', async () => {
  // Long messages reach JS in buffers of their own, short ones joined: every kind of
  // neighbour, empty messages and a joined run longer than one buffer included.
  const { a, b } = await connectedPair({ objectMode: true }, { objectMode: true })
  const lengths = [0, 1, 4095, 4096, 0, 5000, 3, ...Array(20).fill(4095), 0, 65536, 100, 0]
  const sent = lengths.map((length, i) => i % 5 === 3 ? 'é'.repeat(length >> 1) : crypto.randomBytes(length))
  const received = collect(b, sent.length)
  sent.forEach(message => a.send(message))
  const got = await received
  sent.forEach((message, i) => {
    if (typeof message === 'string') assert.equal(got[i], message, `message ${i}`)
    else assert.ok(Buffer.isBuffer(got[i]) && got[i].equals(message), `message ${i} (${message.length} bytes)`)
  })
  await destroyAll(a, b)
})

test('a burst of 20,000 small messages arrives whole and in order, tail included', async () => {
  // SCTP parks messages once 256 wait undelivered; the tail of a burst must still come out.
  const { a, b } = await connectedPair()
  const count = 20000
  const arrived = withTimeout(new Promise((resolve, reject) => {
    let expected = 0
    b.on('data', data => {
      for (let offset = 0; offset < data.length; offset += 4) {
        const seq = data.readUInt32BE(offset)
        if (seq !== expected) return reject(new Error(`message ${seq} arrived when ${expected} was due`))
        expected++
      }
      if (expected === count) resolve(expected)
    })
  }), 10000, `${count} messages`)
  for (let i = 0; i < count; i++) {
    const message = Buffer.alloc(4)
    message.writeUInt32BE(i)
    a.send(message)
  }
  assert.equal(await arrived, count)
  await destroyAll(a, b)
})

test('bufferSize falls back to zero once the remote has acknowledged everything', async () => {
  const { a, b } = await connectedPair()
  const received = drain(b, 2 * 1024 * 1024)
  for (let i = 0; i < 32; i++) a.send(Buffer.alloc(64 * 1024))
  assert.ok(a.bufferSize > 0)
  await received
  await until(() => a.bufferSize === 0)
  assert.equal(a.bufferSize, 0)
  await destroyAll(a, b)
})

test('end() delivers everything written, then both sides close', async () => {
  const { a, b } = await connectedPair()
  const total = 3 * 1024 * 1024
  const { chunks, digest } = randomChunks(total, 64 * 1024, 'end')
  const result = drain(b, total)
  const closed = Promise.all([waitFor(a, 'close'), waitFor(b, 'close')])
  chunks.forEach(chunk => a.write(chunk))
  a.end()
  assert.equal((await result).digest, digest)
  await closed
})

test('destroy() on either side closes the other promptly and cleanly', async () => {
  for (const side of ['initiator', 'non-initiator']) {
    const { a, b } = await connectedPair()
    const [local, remote] = side === 'initiator' ? [a, b] : [b, a]
    const errors = []
    remote.on('error', err => errors.push(err))
    const started = Date.now()
    const closed = waitFor(remote, 'close', 5000)
    local.destroy()
    await closed
    assert.ok(Date.now() - started < 3000, `closed after ${Date.now() - started} ms`)
    assert.deepEqual(errors, [])
    assert.equal(remote.destroyed, true)
  }
})

test('send() refuses what it cannot send, with errors simple-peer users can branch on', async () => {
  const { a, b } = await connectedPair()
  for (const bad of [42, {}, null, undefined, true, () => {}]) {
    assert.throws(() => a.send(bad), err => err instanceof TypeError && err.code === 'ERR_INVALID_ARG_TYPE')
  }
  assert.throws(() => a.send(Buffer.alloc(256 * 1024 + 1)), { code: 'ERR_DATA_CHANNEL' })
  // The largest allowed message goes through whole.
  const big = Buffer.alloc(256 * 1024, 3)
  const received = waitFor(b, 'data')
  a.send(big)
  assert.deepEqual(await received, big)
  assert.equal(a.connected, true)
  await destroyAll(a, b)
})

test('native.maxMessageSize lowers the send() limit (and the memory webrtc keeps for it)', async () => {
  const native = { maxMessageSize: 64 * 1024 }
  const { a, b } = await connectedPair({ native }, { native })
  assert.throws(() => a.send(Buffer.alloc(64 * 1024 + 1)), err => err instanceof RangeError && err.code === 'ERR_DATA_CHANNEL')
  const largest = Buffer.alloc(64 * 1024, 7)
  const received = waitFor(b, 'data')
  a.send(largest)
  assert.deepEqual(await received, largest)
  await destroyAll(a, b)
})

test('a wrong type written in objectMode destroys the stream with ERR_DATA_CHANNEL', async () => {
  const { a, b } = await connectedPair({ objectMode: true })
  const error = waitFor(a, 'error')
  const remoteClosed = waitFor(b, 'close') // may fire before the error is handled
  a.write(12345)
  assert.equal((await error).code, 'ERR_DATA_CHANNEL')
  await remoteClosed
})
