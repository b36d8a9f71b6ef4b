'use strict'
// ICE restart with data flowing: fresh ICE credentials in the offer, new checks, the data
// channel open throughout, and every message of a running ordered stream delivered once and
// in order. Started from either side: the initiator offers the restart itself; the other side
// asks for it with a renegotiate signal that carries `iceRestart: true`.
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('path')
const { execFileSync } = require('child_process')
const { connectedPair, waitFor, until, destroyMade, destroyAll } = require('./helpers')

test.afterEach(destroyMade)

const ufrag = sdp => /^a=ice-ufrag:(\S+)/m.exec(sdp)[1]

// Sends numbered 1 KiB messages from `from` to `to` until stop() is called; resolves with
// the counters `to` received once it has everything that was sent.
function numberedStream (from, to) {
  let sent = 0
  let stopped = false
  const received = []
  to.on('data', chunk => received.push(chunk.readUInt32BE(0)))
  const timer = setInterval(() => {
    for (let i = 0; i < 20; i++) {
      const message = Buffer.alloc(1024)
      message.writeUInt32BE(sent++, 0)
      from.send(message)
    }
  }, 5)
  return {
    get received () { return received.length },
    async stop () {
      if (stopped) return
      stopped = true
      clearInterval(timer)
      const deadline = Date.now() + 10000
      while (received.length < sent && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20))
      return { sent, received }
    }
  }
}

for (const side of ['initiator', 'non-initiator']) {
  test(`an ICE restart asked for by the ${side} during a stream: fresh credentials, nothing lost or reordered`, async () => {
    const { a, b } = await connectedPair()
    const restarter = side === 'initiator' ? a : b
    const before = { a: ufrag(a._pc.localDescription.sdp), b: ufrag(b._pc.localDescription.sdp) }
    const signals = []
    for (const peer of [a, b]) peer.on('signal', data => signals.push(data))
    const closed = []
    for (const peer of [a, b]) peer.on('close', () => closed.push(peer))

    const stream = numberedStream(a, b)
    assert.ok(await until(() => stream.received > 200, 10000), 'the stream runs')
    const negotiated = Promise.all([waitFor(a, 'negotiated'), waitFor(b, 'negotiated')])
    restarter.restartIce()
    await negotiated
    const afterRestart = stream.received
    assert.ok(await until(() => stream.received > afterRestart + 400, 10000), 'the stream runs after the restart')
    const { sent, received } = await stream.stop()

    if (side === 'non-initiator') {
      assert.ok(signals.some(data => data.type === 'renegotiate' && data.iceRestart === true), 'b asked the initiator for a restart')
    }
    const offer = signals.find(data => data.type === 'offer')
    assert.ok(offer, 'a made a new offer')
    assert.notEqual(ufrag(offer.sdp), before.a, 'the offer carries fresh ICE credentials')
    assert.notEqual(ufrag(b._pc.localDescription.sdp), before.b, 'the answer does too')
    assert.equal(ufrag(b._pc.remoteDescription.sdp), ufrag(a._pc.localDescription.sdp))
    assert.deepEqual(closed, [], 'neither peer closed')
    assert.equal(a.connected && b.connected, true)
    assert.equal(received.length, sent, `${received.length} of ${sent} messages arrived`)
    assert.ok(received.every((value, index) => value === index), 'in order, each once')
    await destroyAll(a, b)
  })
}

// The address the selected pair uses disappears mid-transfer and another takes its place
// (`ip addr del` / `add`, in a namespace of the test's own so no other test sees it); an ICE
// restart binds and gathers on the new address and the transfer completes byte-exact.
test('an address removed mid-transfer and another added: an ICE restart moves 50 MiB to the new one, byte-exact', { timeout: 120000 }, async () => {
  const fixture = path.join(__dirname, 'fixtures', 'address-move.js')
  const setup = [
    'ip link set lo up',
    'ip link add mv0 type veth peer name mv1',
    'ip addr add 10.78.0.1/24 dev mv0',
    'ip link set mv0 up',
    'ip link set mv1 up',
    'ip route add default dev mv0',
    'exec "$@"'
  ].join(' && ')
  const flags = process.getuid() === 0 ? '-n' : '-rn'
  const output = execFileSync('unshare', [flags, 'bash', '-c', setup, 'move', process.execPath, fixture, 'mv0', '10.78.0.1', '10.78.0.2'], { encoding: 'utf8', timeout: 90000 })
  const result = JSON.parse(output.trim().split('\n').pop())
  console.log(`# moved: ${result.selectedBefore} → ${result.selectedAfter}, restart to end of transfer ${result.restartToEndMs} ms`)
  assert.equal(result.timedOut, undefined, `timed out with ${result.received} bytes received`)
  assert.equal(result.received, 50 * 1024 * 1024)
  assert.equal(result.got, result.sent, 'byte-exact')
  assert.equal(result.selectedBefore, '10.78.0.1')
  assert.equal(result.selectedAfter, '10.78.0.2')
  assert.deepEqual(result.errors, [])
})
