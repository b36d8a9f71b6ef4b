'use strict'
// simple-peer 9.11.1 test/object-mode.js, case by case, against this package.
const test = require('node:test')
const { exchange, isBuffer } = require('./exchange')

const objectMode = { objectMode: true }

test('data send/receive string {objectMode: true}', () => exchange({
  opts: objectMode,
  first: { send: 'this is a string', expected: 'this is a string' },
  second: { send: 'this is another string', expected: 'this is another string' },
  check (t, data, expected) {
    t.equal(typeof data, 'string', 'data is a string')
    t.equal(data, expected, 'got correct message')
  }
}))

test('data send/receive Buffer {objectMode: true}', () => exchange({
  opts: objectMode,
  first: { send: Buffer.from('this is a Buffer'), expected: Buffer.from('this is a Buffer') },
  second: { send: Buffer.from('this is another Buffer'), expected: Buffer.from('this is another Buffer') },
  check: isBuffer
}))

test('data send/receive Uint8Array {objectMode: true}', () => exchange({
  opts: objectMode,
  first: { send: new Uint8Array([0, 1, 2]), expected: Buffer.from([0, 1, 2]) },
  second: { send: new Uint8Array([1, 2, 3]), expected: Buffer.from([1, 2, 3]) },
  check: isBuffer
}))

test('data send/receive ArrayBuffer {objectMode: true}', () => exchange({
  opts: objectMode,
  first: { send: new Uint8Array([0, 1, 2]).buffer, expected: Buffer.from([0, 1, 2]) },
  second: { send: new Uint8Array([1, 2, 3]).buffer, expected: Buffer.from([1, 2, 3]) },
  check: isBuffer
}))
