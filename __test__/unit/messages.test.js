'use strict'
// Received batches cut back into messages, and stream writes cut into messages: the JS half
// of the format channel.rs's Batch produces (its Rust half has unit tests of its own).
const test = require('node:test')
const assert = require('node:assert')
const { cutMessages, streamMessages, tooLarge, STREAM_MESSAGE_SIZE } = require('../../lib/messages')

const size = (length, isText = false) => length * 2 + (isText ? 1 : 0)

function cutAll (pieces, sizes) {
  const messages = []
  const bytes = cutMessages(pieces, Uint32Array.from(sizes), (body, isText) => {
    messages.push([body.toString(), isText])
  })
  return { messages, bytes }
}

test('joined messages are cut at their lengths, with their text flags', () => {
  const { messages, bytes } = cutAll([Buffer.from('heyab')], [size(3, true), size(2)])
  assert.deepStrictEqual(messages, [['hey', true], ['ab', false]])
  assert.strictEqual(bytes, 5)
})

test('a message that does not fit the rest of a piece starts the next piece', () => {
  const pieces = [Buffer.from('aaabb'), Buffer.from('cccc'), Buffer.from('d')]
  const { messages } = cutAll(pieces, [size(3), size(2), size(0), size(4), size(1)])
  assert.deepStrictEqual(messages.map(([body]) => body), ['aaa', 'bb', '', 'cccc', 'd'])
})

test('an empty message at the end of a piece stays in it', () => {
  const { messages } = cutAll([Buffer.from('ab'), Buffer.from('c')], [size(2), size(0), size(1)])
  assert.deepStrictEqual(messages.map(([body]) => body), ['ab', '', 'c'])
})

test('messages share the pieces\' memory rather than copying it', () => {
  const piece = Buffer.from('xyz')
  const bodies = []
  cutMessages([piece], Uint32Array.from([size(1), size(2)]), body => { bodies.push(body) })
  piece[2] = 0x21
  assert.strictEqual(bodies[1].toString(), 'y!')
})

test('the visitor stops the cut by returning false', () => {
  const seen = []
  const bytes = cutMessages([Buffer.from('abc')], Uint32Array.from([size(1), size(1), size(1)]), body => {
    seen.push(body.toString())
    return seen.length < 2
  })
  assert.deepStrictEqual(seen, ['a', 'b'])
  assert.strictEqual(bytes, 2)
})

test('a batch whose sizes outrun its pieces is an internal error, not a hang', () => {
  assert.throws(() => cutAll([Buffer.from('ab')], [size(2), size(1)]), { code: 'ERR_INTERNAL' })
})

test('stream writes are cut into messages of the native stream size', () => {
  assert.strictEqual(STREAM_MESSAGE_SIZE, 16 * 1024)
  const small = Buffer.alloc(STREAM_MESSAGE_SIZE)
  assert.deepStrictEqual(streamMessages(small), [small])
  const big = Buffer.alloc(2 * STREAM_MESSAGE_SIZE + 5, 7)
  const messages = streamMessages(big)
  assert.deepStrictEqual(messages.map(message => message.length), [STREAM_MESSAGE_SIZE, STREAM_MESSAGE_SIZE, 5])
  assert.ok(Buffer.concat(messages).equals(big))
})

test('a message over the limit is a coded RangeError', () => {
  const err = tooLarge(300000, 262144)
  assert.ok(err instanceof RangeError)
  assert.strictEqual(err.code, 'ERR_DATA_CHANNEL')
  assert.match(err.message, /300000 bytes exceeds the 262144-byte limit/)
})
