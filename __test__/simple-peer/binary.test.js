'use strict'
// simple-peer 9.11.1 test/binary.js, case by case, against this package.
const test = require('node:test')
const { exchange, isBuffer } = require('./exchange')

test('data send/receive Buffer', () => exchange({
  first: { send: Buffer.from([0, 1, 2]), expected: Buffer.from([0, 1, 2]) },
  second: { send: Buffer.from([0, 2, 4]), expected: Buffer.from([0, 2, 4]) },
  check: isBuffer
}))

// Binary types always arrive as Buffer (simple-peer issue #138).
test('data send/receive Uint8Array', () => exchange({
  first: { send: new Uint8Array([0, 1, 2]), expected: Buffer.from([0, 1, 2]) },
  second: { send: new Uint8Array([0, 2, 4]), expected: Buffer.from([0, 2, 4]) },
  check: isBuffer
}))

test('data send/receive ArrayBuffer', () => exchange({
  first: { send: new Uint8Array([0, 1, 2]).buffer, expected: Buffer.from([0, 1, 2]) },
  second: { send: new Uint8Array([0, 2, 4]).buffer, expected: Buffer.from([0, 2, 4]) },
  check: isBuffer
}))
