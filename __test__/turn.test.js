'use strict'
// Through a TURN relay: coturn inside the test namespace (fixtures/turn-server.js).
const test = require('node:test')
const assert = require('node:assert')
const { makePair, relay, waitFor, destroyAll, destroyMade } = require('./helpers')
const { startTurnServer, turnServerMissing, TURN_ADDRESS } = require('./fixtures/turn-server')

test.afterEach(destroyMade)

function stats (peer) {
  return new Promise((resolve, reject) => peer.getStats((err, reports) => err ? reject(err) : resolve(reports)))
}

async function selectedCandidates (peer) {
  const reports = await stats(peer)
  const byId = new Map(reports.map(report => [report.id, report]))
  const transport = reports.find(report => report.type === 'transport')
  const pair = byId.get(transport.selectedCandidatePairId)
  return { local: byId.get(pair.localCandidateId), remote: byId.get(pair.remoteCandidateId) }
}

test('relay only on both sides: data flows and both selected pairs are relayed, over UDP', { skip: turnServerMissing }, async () => {
  const turn = await startTurnServer()
  try {
    const config = { iceServers: [turn.iceServer], iceTransportPolicy: 'relay' }
    const { a, b } = makePair({ config }, { config })
    relay(a, b)
    relay(b, a)
    await Promise.all([waitFor(a, 'connect', 30000), waitFor(b, 'connect', 30000)])
    a.send('through the relay')
    assert.strictEqual(String(await waitFor(b, 'data')), 'through the relay')
    b.send(Buffer.from([1, 2, 3]))
    assert.deepStrictEqual([...await waitFor(a, 'data')], [1, 2, 3])
    for (const peer of [a, b]) {
      const { local, remote } = await selectedCandidates(peer)
      assert.strictEqual(local.candidateType, 'relay')
      assert.strictEqual(local.address, TURN_ADDRESS)
      assert.strictEqual(local.relayProtocol, 'udp')
      assert.strictEqual(remote.relayProtocol, undefined)
      assert.ok(Number.isInteger(local.priority) && local.priority > 0xffff, `full priority, got ${local.priority}`)
    }
    assert.match(turn.log(), /ALLOCATE/, 'coturn saw the allocations')
    await destroyAll(a, b)
  } finally {
    await turn.stop()
  }
})
