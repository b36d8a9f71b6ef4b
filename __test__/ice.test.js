'use strict'
// ICE as other stacks meet it, with a remote made by hand where a peer of ours would not do
// what is under test.
const test = require('node:test')
const assert = require('node:assert')
const crypto = require('crypto')
const dgram = require('dgram')
const { makePair, waitFor, destroyMade } = require('./helpers')

test.afterEach(destroyMade)

const MAGIC_COOKIE = 0x2112a442

function crc32 (bytes) {
  let crc = 0xffffffff
  for (const byte of bytes) {
    crc ^= byte
    for (let bit = 0; bit < 8; bit++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1))
  }
  return (crc ^ 0xffffffff) >>> 0
}

function attribute (type, value) {
  const header = Buffer.alloc(4)
  header.writeUInt16BE(type, 0)
  header.writeUInt16BE(value.length, 2)
  const padding = Buffer.alloc((4 - (value.length % 4)) % 4)
  return Buffer.concat([header, value, padding])
}

// A STUN header whose length covers `body` plus `extra` bytes still to come.
function header (type, transactionId, bodyLength) {
  const head = Buffer.alloc(20)
  head.writeUInt16BE(type, 0)
  head.writeUInt16BE(bodyLength, 2)
  head.writeUInt32BE(MAGIC_COOKIE, 4)
  transactionId.copy(head, 8)
  return head
}

// An ICE connectivity check as a controlled agent sends it (RFC 8445 §7.1.1): USERNAME
// "recipient:sender", PRIORITY, ICE-CONTROLLED, then MESSAGE-INTEGRITY keyed with the
// recipient's password and FINGERPRINT.
function connectivityCheck ({ username, password, transactionId }) {
  const priority = Buffer.alloc(4)
  priority.writeUInt32BE(1853824767)
  let body = Buffer.concat([
    attribute(0x0006, Buffer.from(username)),
    attribute(0x0024, priority),
    attribute(0x8029, crypto.randomBytes(8))
  ])
  const withIntegrity = body.length + 24
  const hmac = crypto.createHmac('sha1', password)
    .update(Buffer.concat([header(0x0001, transactionId, withIntegrity), body])).digest()
  body = Buffer.concat([body, attribute(0x0008, hmac)])
  const fingerprint = Buffer.alloc(4)
  fingerprint.writeUInt32BE((crc32(Buffer.concat([header(0x0001, transactionId, body.length + 8), body])) ^ 0x5354554e) >>> 0)
  body = Buffer.concat([body, attribute(0x8028, fingerprint)])
  return Buffer.concat([header(0x0001, transactionId, body.length), body])
}

function sdpValue (sdp, name) {
  const match = new RegExp(`^a=${name}:(\\S+)`, 'm').exec(sdp)
  return match && match[1]
}

// The remote (a hand-made ICE agent on a plain UDP socket) checks the initiator as soon as it
// has the offer, before its answer reaches the initiator: what aiortc does with trickle off.
// rtc-ice 0.21 alone drops such a check; answered only once the remote retransmits (aiortc:
// 500 ms later), it delays every such connect.
test('a connectivity check that arrives before the answer is answered once the answer is applied', async () => {
  const { a, b } = makePair({ trickle: false }, { trickle: false })
  const offer = await waitFor(a, 'signal')
  const [, address, port] = /^a=candidate:\S+ 1 udp \d+ (\S+) (\d+) typ host/m.exec(offer.sdp)
  const remote = dgram.createSocket('udp4')
  await new Promise(resolve => remote.bind(0, address, resolve))
  try {
    const ufrag = 'handmade'
    const password = 'a-password-of-22-chars+'
    const transactionId = crypto.randomBytes(12)
    const responded = new Promise(resolve => remote.on('message', message => {
      const isSuccess = message.readUInt16BE(0) === 0x0101
      if (isSuccess && message.subarray(8, 20).equals(transactionId)) resolve(message)
    }))
    remote.send(connectivityCheck({
      username: `${sdpValue(offer.sdp, 'ice-ufrag')}:${ufrag}`,
      password: sdpValue(offer.sdp, 'ice-pwd'),
      transactionId
    }), Number(port), address)

    // A real answer (its DTLS and SCTP parameters), carrying the hand-made agent's
    // credentials and none of b's candidates. The check is sent once and never again.
    b.signal(offer)
    const answer = await waitFor(b, 'signal')
    await new Promise(resolve => setTimeout(resolve, 100)) // the check is surely read first
    const sdp = answer.sdp
      .replace(/^a=ice-ufrag:.*$/gm, `a=ice-ufrag:${ufrag}`)
      .replace(/^a=ice-pwd:.*$/gm, `a=ice-pwd:${password}`)
      .replace(/^a=candidate:.*\r\n/gm, '')
    a.signal({ type: 'answer', sdp })
    const response = await Promise.race([
      responded,
      new Promise((resolve, reject) => setTimeout(() => reject(new Error('the early check was never answered')), 5000))
    ])
    assert.strictEqual(response.readUInt32BE(4), MAGIC_COOKIE)
  } finally {
    remote.close()
  }
})
