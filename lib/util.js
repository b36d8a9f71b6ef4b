// @ts-check
'use strict'
// Helpers the JS modules share.
const { formatWithOptions } = require('util')
const binding = require('../binding')

/**
 * Tags an error with one of simple-peer's codes (non-errors are wrapped first).
 * @param {unknown} err
 * @param {string} code
 * @returns {Error & { code: string }}
 */
function errCode (err, code) {
  return Object.assign(err instanceof Error ? err : new Error(String(err)), { code })
}

/**
 * The bytes of a Buffer, TypedArray, DataView or ArrayBuffer, without copying; null otherwise.
 * @param {unknown} chunk
 * @returns {Buffer | null}
 */
function toBuffer (chunk) {
  if (Buffer.isBuffer(chunk)) return chunk
  if (chunk instanceof ArrayBuffer) return Buffer.from(chunk)
  if (ArrayBuffer.isView(chunk)) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
  return null
}

// DEBUG is read natively, by the same rules as the native logs: simple-peer's own namespace
// (what its users already set) or ours turns on the JS debug lines.
const debugEnabled = binding.debugEnabled('simple-peer') || binding.debugEnabled('simple-peer-native')

/**
 * One line per message, as the debug module prints simple-peer's.
 * @param {string} id
 * @param {unknown[]} args
 */
function debugLine (id, args) {
  const [format, ...rest] = args
  const line = formatWithOptions({ breakLength: Infinity }, '[' + id + '] ' + String(format).replace(/%o/g, '%O'), ...rest)
  console.error('simple-peer', line)
}

module.exports = { errCode, toBuffer, debugEnabled, debugLine }
