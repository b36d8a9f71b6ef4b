'use strict'
// The server knobs in opts.native: shared UDP port, port range, NAT 1:1 mapping, loopback.
const test = require('node:test')
const assert = require('node:assert')
const dgram = require('dgram')
const { makePair, relay, waitFor, until, destroyAll, destroyMade } = require('./helpers')

test.afterEach(destroyMade)

// Host candidates ("candidate:f c udp prio ADDRESS PORT typ host") a peer signals, trickled
// or inside its description.
function collectCandidates (peer) {
  const seen = []
  peer.on('signal', data => {
    if (data.candidate) seen.push(data.candidate.candidate)
    if (data.sdp) {
      for (const line of data.sdp.split(/\r?\n/)) {
        if (line.startsWith('a=candidate:')) seen.push(line.slice(2))
      }
    }
  })
  return () => seen.map(line => {
    const fields = line.split(' ')
    return { address: fields[4], port: Number(fields[5]), type: fields[7] }
  })
}

async function connect (optsA, optsB) {
  const { a, b } = makePair(optsA, optsB)
  const candidatesOfA = collectCandidates(a)
  const candidatesOfB = collectCandidates(b)
  relay(a, b)
  relay(b, a)
  await Promise.all([waitFor(a, 'connect'), waitFor(b, 'connect')])
  return { a, b, candidatesOfA, candidatesOfB }
}

// Both directions deliver exactly what was sent, to the right peer.
async function exchange (a, b, tag) {
  const atB = waitFor(b, 'data')
  a.send(`to b ${tag}`)
  assert.strictEqual(String(await atB), `to b ${tag}`)
  const atA = waitFor(a, 'data')
  b.send(`to a ${tag}`)
  assert.strictEqual(String(await atA), `to a ${tag}`)
}

function canBind (port) {
  return new Promise(resolve => {
    const socket = dgram.createSocket('udp4')
    socket.once('error', () => { socket.close(); resolve(false) })
    socket.bind(port, '0.0.0.0', () => socket.close(() => resolve(true)))
  })
}

async function freePort () {
  const socket = dgram.createSocket('udp4')
  await new Promise(resolve => socket.bind(0, '0.0.0.0', resolve))
  const { port } = socket.address()
  await new Promise(resolve => socket.close(resolve))
  return port
}

function expectConstructorError (native) {
  const peer = new (require('..'))({ initiator: true, config: { iceServers: [] }, native })
  return new Promise((resolve, reject) => {
    peer.once('error', err => {
      try {
        assert.strictEqual(err.code, 'ERR_PC_CONSTRUCTOR')
        resolve(err)
      } catch (failure) { reject(failure) }
    })
    peer.once('connect', () => reject(new Error('connected with bad options')))
  })
}

test('udpMuxPort: every peer receives on the one shared port, each gets its own traffic', async () => {
  const port = await freePort()
  const pairs = []
  for (let i = 0; i < 3; i++) {
    pairs.push(await connect({ native: { udpMuxPort: port } }, {}))
  }
  assert.strictEqual(await canBind(port), false, 'the shared port is open while peers use it')
  for (const [i, { a, b, candidatesOfA, candidatesOfB }] of pairs.entries()) {
    const shared = candidatesOfA()
    assert.ok(shared.length > 0)
    for (const candidate of shared) assert.strictEqual(candidate.port, port)
    assert.ok(candidatesOfB().every(candidate => candidate.port !== port))
    assert.strictEqual(a.localPort, port)
    assert.strictEqual(b.remotePort, port)
    await exchange(a, b, i)
  }
  // Again, interleaved, so demultiplexing is tested with all peers live at once.
  await Promise.all(pairs.map(({ a, b }, i) => exchange(a, b, `again ${i}`)))
  await destroyAll(...pairs.flatMap(({ a, b }) => [a, b]))
  assert.ok(await until(() => canBind(port)), 'port released after destroy')
})

test('udpMuxPort: two peers of one process talk through one shared port each way', async () => {
  // Each side of this pair shares its own port; the remote is a different socket each time.
  const [portA, portB] = [await freePort(), await freePort()]
  const { a, b, candidatesOfA, candidatesOfB } =
    await connect({ native: { udpMuxPort: portA } }, { native: { udpMuxPort: portB } })
  assert.ok(candidatesOfA().every(candidate => candidate.port === portA))
  assert.ok(candidatesOfB().every(candidate => candidate.port === portB))
  await exchange(a, b, 'both muxed')
  await destroyAll(a, b)
})

test('portRange: every socket is bound inside the range', async () => {
  const min = 41000
  const max = 41009
  const pairs = []
  for (let i = 0; i < 3; i++) {
    pairs.push(await connect({ native: { portRange: { min, max } } }, { native: { portRange: { min, max } } }))
  }
  const ports = new Set()
  for (const { a, b, candidatesOfA, candidatesOfB } of pairs) {
    for (const candidate of [...candidatesOfA(), ...candidatesOfB()]) {
      assert.ok(candidate.port >= min && candidate.port <= max, `port ${candidate.port}`)
      ports.add(candidate.port)
    }
    await exchange(a, b, 'range')
  }
  assert.ok(ports.size >= 6, 'each socket has its own port')
  await destroyAll(...pairs.flatMap(({ a, b }) => [a, b]))
})

test('nat1to1Ips: host candidates carry the public address, trickled and in the SDP', async () => {
  const PUBLIC = '192.0.2.7' // TEST-NET-1: unroutable, so the pair forms peer-reflexively
  for (const trickle of [true, false]) {
    const { a, b, candidatesOfA } = await connect({ trickle, native: { nat1to1Ips: [PUBLIC] } }, { trickle })
    const candidates = candidatesOfA()
    assert.ok(candidates.length > 0)
    for (const candidate of candidates) assert.strictEqual(candidate.address, PUBLIC)
    assert.notStrictEqual(b.remoteAddress, PUBLIC, 'the checks came from the real address')
    await exchange(a, b, `nat trickle=${trickle}`)
    await destroyAll(a, b)
  }
})

test('includeLoopback: loopback candidates only on request', async () => {
  const { a, b, candidatesOfA, candidatesOfB } = await connect({ native: { includeLoopback: true } }, {})
  assert.ok(candidatesOfA().some(candidate => candidate.address === '127.0.0.1'))
  assert.ok(candidatesOfB().every(candidate => !candidate.address.startsWith('127.')))
  await exchange(a, b, 'loopback')
  await destroyAll(a, b)

  const onlyLoopback = await connect({ native: { includeLoopback: true } }, { native: { bindAddresses: ['127.0.0.1'] } })
  assert.strictEqual(onlyLoopback.b.localAddress, '127.0.0.1')
  await exchange(onlyLoopback.a, onlyLoopback.b, 'over loopback')
  await destroyAll(onlyLoopback.a, onlyLoopback.b)
})

test('bad knob values and a taken shared port give ERR_PC_CONSTRUCTOR', async () => {
  await expectConstructorError({ udpMuxPort: 70000 })
  await expectConstructorError({ portRange: { min: 50010, max: 50000 } })
  await expectConstructorError({ nat1to1Ips: ['not-an-ip'] })
  await expectConstructorError({ bindAddresses: ['garbage'] })
  await expectConstructorError({ udpMuxPort: 'nope' })

  const taken = dgram.createSocket('udp4')
  await new Promise(resolve => taken.bind(0, '0.0.0.0', resolve))
  const err = await expectConstructorError({ udpMuxPort: taken.address().port })
  assert.match(err.message, /udpMuxPort/)
  await new Promise(resolve => taken.close(resolve))
})
