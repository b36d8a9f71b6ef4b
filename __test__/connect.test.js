'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const { Peer, LOCAL, waitFor, relay, makePair, connectedPair, destroyAll, destroyMade, track } = require('./helpers')

test.afterEach(destroyMade)

test('two peers connect with trickle and know their addresses', async () => {
  const { a, b } = await connectedPair()
  for (const peer of [a, b]) {
    assert.equal(peer.connected, true)
    assert.match(peer.localAddress, /^10\.77\.0\.1$/)
    assert.equal(peer.localFamily, 'IPv4')
    assert.equal(peer.remoteFamily, 'IPv4')
    assert.ok(Number.isInteger(peer.localPort) && peer.localPort > 0)
    assert.ok(Number.isInteger(peer.remotePort) && peer.remotePort > 0)
    assert.deepEqual(peer.address(), { port: peer.localPort, family: 'IPv4', address: peer.localAddress })
  }
  assert.equal(a.localPort, b.remotePort)
  assert.equal(b.localPort, a.remotePort)
  assert.match(a.channelName, /^[0-9a-f]{40}$/)
  assert.equal(b.channelName, a.channelName)
  assert.equal(a.initiator, true)
  assert.equal(b.initiator, false)
  await destroyAll(a, b)
})

test('signals have simple-peer shapes and the offer precedes its candidates', async () => {
  const { a, b } = makePair()
  const fromA = []
  a.on('signal', data => fromA.push(data))
  relay(a, b)
  relay(b, a)
  await Promise.all([waitFor(a, 'connect'), waitFor(b, 'connect')])
  assert.equal(fromA[0].type, 'offer')
  assert.match(fromA[0].sdp, /^v=0\r\n/)
  assert.deepEqual(Object.keys(fromA[0]).sort(), ['sdp', 'type'])
  const candidates = fromA.filter(signal => signal.type === 'candidate')
  assert.ok(candidates.length > 0)
  for (const signal of candidates) {
    assert.deepEqual(Object.keys(signal).sort(), ['candidate', 'type'])
    assert.deepEqual(Object.keys(signal.candidate).sort(), ['candidate', 'sdpMLineIndex', 'sdpMid'])
    assert.match(signal.candidate.candidate, /^candidate:\S+ 1 udp \d+ 10\.77\.0\.1 \d+ typ host/)
    assert.equal(signal.candidate.sdpMid, '0')
    assert.equal(signal.candidate.sdpMLineIndex, 0)
  }
  await destroyAll(a, b)
})

for (const [name, optsA, optsB] of [
  ['on both sides', { trickle: false }, { trickle: false }],
  ['on the initiator only', { trickle: false }, {}],
  ['on the non-initiator only', {}, { trickle: false }]
]) {
  test(`trickle: false ${name} still connects`, async () => {
    const { a, b } = makePair(optsA, optsB)
    const signals = { a: [], b: [] }
    a.on('signal', data => signals.a.push(data))
    b.on('signal', data => signals.b.push(data))
    relay(a, b)
    relay(b, a)
    await Promise.all([waitFor(a, 'connect'), waitFor(b, 'connect')])
    for (const [side, opts] of [['a', optsA], ['b', optsB]]) {
      if (opts.trickle === false) {
        assert.equal(signals[side].length, 1, `${side} sends exactly one signal`)
        assert.match(signals[side][0].sdp, /a=candidate:/)
        assert.doesNotMatch(signals[side][0].sdp, /a=ice-options:trickle/)
      }
    }
    await destroyAll(a, b)
  })
}

// webrtc 0.21 writes every candidate into the description twice, the second time as
// component 2 (RTCP), which a bundled session with rtcp-mux never uses.
test('without trickle, each candidate is signalled once, as component 1', async () => {
  const video = new Peer.MediaStreamTrack({ kind: 'video', codec: 'vp8' })
  const { a, b } = makePair({ trickle: false, streams: [new Peer.MediaStream([video])] }, { trickle: false })
  const descriptions = []
  const keepDescriptions = data => {
    if (data.sdp) descriptions.push(data.sdp)
    return data
  }
  relay(a, b, keepDescriptions)
  relay(b, a, keepDescriptions)
  await Promise.all([waitFor(a, 'connect'), waitFor(b, 'connect')])
  assert.equal(descriptions.length, 2)
  for (const sdp of descriptions) {
    assert.match(sdp, /a=rtcp-mux/)
    const candidates = sdp.split('\r\n').filter(line => line.startsWith('a=candidate:'))
    assert.ok(candidates.length > 0, sdp)
    for (const line of candidates) assert.equal(line.split(' ')[1], '1', line)
    for (const section of sdp.split('\r\nm=')) {
      const lines = section.split('\r\n').filter(line => line.startsWith('a=candidate:'))
      assert.equal(new Set(lines).size, lines.length, 'no candidate twice in a section')
    }
  }
  video.stop()
})

test('candidates that arrive before the description are queued', async () => {
  const { a, b } = makePair()
  const held = []
  a.on('signal', data => held.push(data))
  relay(b, a)
  await waitFor(a, 'iceStateChange')
  await new Promise(resolve => setTimeout(resolve, 200)) // let candidates gather
  const candidates = held.filter(signal => signal.type === 'candidate')
  const offer = held.find(signal => signal.type === 'offer')
  assert.ok(candidates.length > 0 && offer)
  candidates.forEach(candidate => b.signal(candidate))
  b.signal(JSON.stringify(offer)) // JSON strings are accepted too
  await Promise.all([waitFor(a, 'connect'), waitFor(b, 'connect')])
  await destroyAll(a, b)
})

test('state events follow the connection', async () => {
  const { a, b } = makePair()
  const iceStates = []
  const signalingStates = []
  a.on('iceStateChange', (connection, gathering) => iceStates.push([connection, gathering]))
  a.on('signalingStateChange', state => signalingStates.push(state))
  const negotiated = waitFor(a, 'negotiated')
  relay(a, b)
  relay(b, a)
  await Promise.all([waitFor(a, 'connect'), waitFor(b, 'connect'), negotiated])
  assert.ok(iceStates.some(([connection]) => connection === 'connected'))
  assert.ok(iceStates.some(([, gathering]) => gathering === 'complete'))
  assert.deepEqual(signalingStates, ['have-local-offer', 'stable'])
  await destroyAll(a, b)
})

async function exchange (a, b, text) {
  const received = waitFor(b, 'data')
  a.send(text)
  assert.equal((await received).toString(), text)
}

test('negotiate() from the initiator renegotiates and keeps the channel', async () => {
  const { a, b } = await connectedPair()
  const done = Promise.all([waitFor(a, 'negotiated'), waitFor(b, 'negotiated')])
  a.negotiate()
  await done
  assert.equal(a.connected && b.connected, true)
  await exchange(a, b, 'after initiator renegotiation')
  await exchange(b, a, 'and back')
  await destroyAll(a, b)
})

test('negotiate() from the non-initiator asks the initiator with a renegotiate signal', async () => {
  const { a, b } = await connectedPair()
  const requests = []
  b.on('signal', data => { if (data.renegotiate) requests.push(data) })
  const done = Promise.all([waitFor(a, 'negotiated'), waitFor(b, 'negotiated')])
  b.negotiate()
  await done
  assert.deepEqual(requests, [{ type: 'renegotiate', renegotiate: true }])
  await exchange(b, a, 'after non-initiator renegotiation')
  await destroyAll(a, b)
})

test('a negotiated channel with a fixed id connects and carries data', async () => {
  const channelConfig = { negotiated: true, id: 5 }
  const { a, b } = await connectedPair({ channelConfig }, { channelConfig })
  await exchange(a, b, 'negotiated out of band')
  await exchange(b, a, 'both ways')
  await destroyAll(a, b)
})

test('an unordered, unreliable channel config is honoured', async () => {
  const { a, b } = await connectedPair({ channelConfig: { ordered: false, maxRetransmits: 0 } })
  await exchange(a, b, 'best effort')
  await destroyAll(a, b)
})

// Every id an entry refers to resolves within the same report, with browsers' fields: webrtc
// 0.21 leaves out the peer-reflexive remote a selected pair often names.
test('getStats: every id a report refers to resolves, the selected pair to both addresses', async () => {
  for (const trickle of [true, false, true, false]) {
    const { a, b } = await connectedPair({ trickle }, { trickle })
    for (const peer of [a, b]) {
      const reports = await new Promise((resolve, reject) => peer.getStats((err, r) => err ? reject(err) : resolve(r)))
      assert.ok(Array.isArray(reports))
      const byId = new Map(reports.map(report => [report.id, report]))
      for (const report of reports) {
        for (const key of ['localCandidateId', 'remoteCandidateId', 'transportId', 'selectedCandidatePairId', 'codecId']) {
          if (report[key]) assert.ok(byId.has(report[key]), `${report.type}.${key} ${report[key]} resolves`)
        }
      }
      const transport = reports.find(report => report.type === 'transport')
      const pair = byId.get(transport.selectedCandidatePairId)
      assert.equal(pair.type, 'candidate-pair')
      const local = byId.get(pair.localCandidateId)
      const remote = byId.get(pair.remoteCandidateId)
      assert.deepEqual([local.type, local.address, local.port], ['local-candidate', peer.localAddress, peer.localPort])
      assert.deepEqual([remote.type, remote.address, remote.port, remote.protocol], ['remote-candidate', peer.remoteAddress, peer.remotePort, 'udp'])
      assert.ok(['host', 'prflx'].includes(remote.candidateType), remote.candidateType)
    }
    await destroyAll(a, b)
  }
})

// webrtc 0.21 reports only a priority's top 16 bits, and relayProtocol on every candidate.
test('getStats: candidates carry the priority of their candidate line, relayProtocol only on relays', async () => {
  for (const trickle of [true, false]) {
    const { a, b } = makePair({ trickle }, { trickle })
    const signalled = new Map() // "address port" -> priority, for a's candidates
    a.on('signal', data => {
      const lines = data.sdp ? data.sdp.split('\r\n').filter(line => line.startsWith('a=candidate:')).map(line => line.slice(2)) : []
      if (data.candidate) lines.push(data.candidate.candidate)
      for (const line of lines) {
        const fields = line.split(' ')
        signalled.set(`${fields[4]} ${fields[5]}`, Number(fields[3]))
      }
    })
    relay(a, b)
    relay(b, a)
    await Promise.all([waitFor(a, 'connect'), waitFor(b, 'connect')])
    assert.ok(signalled.size > 0)
    const stats = peer => new Promise((resolve, reject) => peer.getStats((err, r) => err ? reject(err) : resolve(r)))
    const localOfA = (await stats(a)).filter(report => report.type === 'local-candidate')
    const remoteAtB = (await stats(b)).filter(report => report.type === 'remote-candidate' && report.candidateType === 'host')
    assert.ok(localOfA.length > 0 && remoteAtB.length > 0)
    for (const report of [...localOfA, ...remoteAtB]) {
      const key = `${report.address} ${report.port}`
      if (!signalled.has(key)) continue
      assert.equal(report.priority, signalled.get(key), `${report.type} ${key}`)
    }
    assert.ok(localOfA.some(report => signalled.has(`${report.address} ${report.port}`)), 'a signalled candidate is reported')
    for (const report of [...localOfA, ...remoteAtB]) assert.equal(report.relayProtocol, undefined, report.candidateType)
    await destroyAll(a, b)
  }
})

// What some stacks and relays send for end-of-candidates: an inner candidate of null (or
// ''). Accepted silently, before the description and after connect.
test('an end-of-candidates marker with a null inner candidate is accepted before and after connect', async () => {
  const { a, b } = makePair()
  const errors = []
  for (const peer of [a, b]) peer.on('error', err => errors.push(err.code))
  const marker = () => ({ candidate: { candidate: null, sdpMLineIndex: 0, sdpMid: '0' } })
  b.signal(marker())
  b.signal({ type: 'candidate', candidate: { candidate: '', sdpMid: '0' } })
  relay(a, b)
  relay(b, a)
  await Promise.all([waitFor(a, 'connect'), waitFor(b, 'connect')])
  a.signal(marker())
  b.signal(marker())
  a.send('after the markers')
  assert.equal(String(await waitFor(b, 'data')), 'after the markers')
  assert.deepEqual(errors, [])
  assert.equal(a.destroyed || b.destroyed, false)
})

test('sdpTransform sees and shapes the local description', async () => {
  const seen = []
  const sdpTransform = sdp => { seen.push(sdp); return sdp.replace(/\r\n$/, '\r\na=x-simple-peer-native:1\r\n') }
  const { a, b } = makePair({ sdpTransform })
  let offer
  a.on('signal', data => { if (data.type === 'offer') offer = data })
  relay(a, b)
  relay(b, a)
  await Promise.all([waitFor(a, 'connect'), waitFor(b, 'connect')])
  assert.equal(seen.length, 1)
  assert.match(offer.sdp, /a=x-simple-peer-native:1/)
  await destroyAll(a, b)
})

test('statics and ignored options match simple-peer', async () => {
  assert.equal(Peer.WEBRTC_SUPPORT, true)
  assert.deepEqual(Peer.channelConfig, {})
  assert.ok(Peer.config.iceServers[0].urls.every(url => url.startsWith('stun:')))
  const { a, b } = await connectedPair({ wrtc: { RTCPeerConnection: null } }, { wrtc: {} })
  assert.equal(a.connected, true)
  await destroyAll(a, b)
  // Defaults are not shared mutable state: opts.config merges over Peer.config.
  const peer = new Peer({ config: LOCAL })
  assert.deepEqual(peer.config.iceServers, [])
  assert.equal(peer.config.sdpSemantics, 'unified-plan')
  await destroyAll(peer)
})

// As with browsers and wrtc: the answerer learns of the channel from the initiator, so the
// initiator's 'connect' comes first, and each side knows its remote address by its own
// 'connect'. Either creation order, with and without trickle.
test('the initiator connects first, every time, with both remote addresses set', async () => {
  const orders = []
  for (let run = 0; run < 20; run++) {
    const trickle = run % 4 < 2
    const make = initiator => track(new Peer({ config: LOCAL, initiator, trickle }))
    const [a, b] = run % 2 === 0 ? [make(true), make(false)] : [make(false), make(true)].reverse()
    relay(a, b)
    relay(b, a)
    const order = []
    const connected = [a, b].map(peer => waitFor(peer, 'connect').then(() => {
      order.push(`${peer.initiator ? 'initiator' : 'answerer'}${peer.remoteAddress && peer.remotePort ? '' : ' without address'}`)
    }))
    await Promise.all(connected)
    orders.push(order.join(' then '))
    await destroyAll(a, b)
  }
  assert.deepEqual(orders, new Array(20).fill('initiator then answerer'))
})

// simple-peer users reach into peer._pc; the original suite calls its handlers directly.
test('peer._pc is RTCPeerConnection-shaped and backed by the native peer', async () => {
  const { a, b } = makePair()
  const seen = []
  a._pc.addEventListener('iceconnectionstatechange', () => seen.push(a._pc.iceConnectionState))
  assert.equal(typeof a._pc.oniceconnectionstatechange, 'function', 'simple-peer\'s own handler is set')
  assert.equal(a._pc.signalingState, 'stable')
  relay(a, b)
  relay(b, a)
  await Promise.all([waitFor(a, 'connect'), waitFor(b, 'connect')])
  assert.ok(seen.includes('connected'), `listeners see ICE states: ${seen}`)
  assert.equal(a._pc.connectionState, 'connected')
  assert.ok(['connected', 'completed'].includes(b._pc.iceConnectionState))
  assert.equal(a._pc.localDescription.type, 'offer')
  assert.equal(a._pc.remoteDescription.type, 'answer')
  assert.equal(b._pc.remoteDescription.sdp.includes('a=ice-ufrag:'), true)
  const stats = await a._pc.getStats()
  assert.ok(stats instanceof Map)
  assert.ok([...stats.values()].some(report => report.type === 'transport'))

  const track = new Peer.MediaStreamTrack({ kind: 'video' })
  const stream = new Peer.MediaStream([track])
  const negotiated = Promise.all([waitFor(a, 'negotiated'), waitFor(b, 'negotiated')])
  a.addStream(stream)
  await negotiated
  assert.deepEqual(a._pc.getSenders().map(sender => sender.track), [track])
  assert.equal(a._pc.getTransceivers()[0].sender.track, track)
  assert.deepEqual(b._pc.getReceivers().map(receiver => receiver.track.id), [track.id], 'announced at negotiation')

  const ufrag = description => /a=ice-ufrag:(\S+)/.exec(description.sdp)[1]
  const before = ufrag(a._pc.localDescription)
  const offers = []
  a.on('signal', data => { if (data.type === 'offer') offers.push(data) })
  const restarted = Promise.all([waitFor(a, 'negotiated'), waitFor(b, 'negotiated')])
  a._pc.restartIce()
  a.negotiate()
  await restarted
  assert.notEqual(ufrag(offers[0]), before, 'the offer after restartIce() has fresh ICE credentials')

  const closed = waitFor(a, 'close')
  a._pc.close()
  await closed
  assert.equal(a._pc, null, 'gone once destroyed, as in simple-peer')
})
