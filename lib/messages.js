'use strict'
// The data channel's messages as they cross between JS and Rust. Received ones arrive in
// batches (channel.rs's Batch): their bodies back to back in `pieces` (a long message alone,
// short ones joined), and per message `length * 2 + (isText ? 1 : 0)` in `sizes`.
const { STREAM_MESSAGE_SIZE } = require('../binding')
const { errCode } = require('./util')

/**
 * Calls `onMessage(body, isText)` for each message of a batch, in order, until it returns
 * false; returns the bytes visited. A message starts the next piece exactly when it does
 * not fit in the rest of this one (an empty message fits anywhere).
 */
function cutMessages (pieces, sizes, onMessage) {
  let next = 0
  let piece = null
  let offset = 0
  let bytes = 0
  for (let i = 0; i < sizes.length; i++) {
    const length = sizes[i] >>> 1
    while (piece === null || offset + length > piece.length) {
      if (next === pieces.length) throw errCode(new Error('a message batch ends early'), 'ERR_INTERNAL')
      piece = pieces[next++]
      offset = 0
    }
    const body = piece.subarray(offset, offset + length)
    offset += length
    bytes += length
    if (onMessage(body, (sizes[i] & 1) === 1) === false) break
  }
  return bytes
}

// The messages a stream write is sent as: it has no boundaries to keep, so a long one is
// split (the size is the native side's, see config.rs).
function streamMessages (buffer) {
  if (buffer.length <= STREAM_MESSAGE_SIZE) return [buffer]
  const messages = []
  for (let offset = 0; offset < buffer.length; offset += STREAM_MESSAGE_SIZE) {
    messages.push(buffer.subarray(offset, offset + STREAM_MESSAGE_SIZE))
  }
  return messages
}

function tooLarge (size, limit) {
  return errCode(new RangeError(`message of ${size} bytes exceeds the ${limit}-byte limit`), 'ERR_DATA_CHANNEL')
}

module.exports = { cutMessages, streamMessages, tooLarge, STREAM_MESSAGE_SIZE }
