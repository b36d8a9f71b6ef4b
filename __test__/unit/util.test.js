'use strict'
const test = require('node:test')
const assert = require('node:assert')
const { errCode, toBuffer } = require('../../lib/util')

test('errCode tags errors and wraps anything else', () => {
  const original = new TypeError('bad')
  assert.strictEqual(errCode(original, 'ERR_X'), original)
  assert.strictEqual(original.code, 'ERR_X')
  const wrapped = errCode('plain', 'ERR_Y')
  assert.ok(wrapped instanceof Error)
  assert.deepStrictEqual([wrapped.message, wrapped.code], ['plain', 'ERR_Y'])
})

test('toBuffer views every binary type without copying, and refuses the rest', () => {
  const bytes = new Uint8Array([1, 2, 3, 4])
  const view = toBuffer(bytes.subarray(1, 3))
  bytes[1] = 9
  assert.deepStrictEqual([...view], [9, 3])
  assert.deepStrictEqual([...toBuffer(new DataView(bytes.buffer, 2, 2))], [3, 4])
  assert.deepStrictEqual([...toBuffer(bytes.buffer)], [1, 9, 3, 4])
  const buffer = Buffer.from('x')
  assert.strictEqual(toBuffer(buffer), buffer)
  for (const other of ['text', 5, null, {}, [1, 2]]) assert.strictEqual(toBuffer(other), null)
})
