'use strict'
// Helpers index.js and media.js share.

// Tags an error with one of simple-peer's codes (non-errors are wrapped first).
function errCode (err, code) {
  if (!(err instanceof Error)) err = new Error(String(err))
  err.code = code
  return err
}

// The bytes of a Buffer, TypedArray, DataView or ArrayBuffer, without copying; null otherwise.
function toBuffer (chunk) {
  if (Buffer.isBuffer(chunk)) return chunk
  if (chunk instanceof ArrayBuffer) return Buffer.from(chunk)
  if (ArrayBuffer.isView(chunk)) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
  return null
}

module.exports = { errCode, toBuffer }
