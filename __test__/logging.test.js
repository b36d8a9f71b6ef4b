'use strict'
// DEBUG=simple-peer prints the peer's state changes as simple-peer's debug output does;
// DEBUG=simple-peer-native:rust turns on the native logs; nothing is printed by default.
const test = require('node:test')
const assert = require('node:assert')
const path = require('path')
const { execFile } = require('child_process')

// A child process that connects a pair, sends a message and destroys both.
const SCRIPT = `
const Peer = require('../..')
const config = { iceServers: [] }
const a = new Peer({ initiator: true, config })
const b = new Peer({ config })
a.on('signal', data => b.signal(data))
b.on('signal', data => a.signal(data))
b.on('connect', () => b.send('hello'))
a.on('data', () => { a.destroy(); b.destroy() })
`

function runWithDebug (debug) {
  const env = Object.assign({}, process.env)
  delete env.DEBUG
  delete env.SIMPLE_PEER_NATIVE_LOG
  if (debug !== undefined) env.DEBUG = debug
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [path.join(__dirname, 'fixtures', 'eval.js'), SCRIPT], { env, timeout: 30000 }, (err, stdout, stderr) => {
      if (err) return reject(Object.assign(err, { stderr }))
      resolve(stderr)
    })
  })
}

test('DEBUG=simple-peer prints each peer\'s state changes, tagged with its id', async () => {
  const stderr = await runWithDebug('simple-peer')
  const lines = stderr.split('\n').filter(Boolean)
  for (const expected of [/new peer/, /signalingStateChange have-local-offer/, /iceStateChange \(connection: connected\)/, /\bconnect\b/, /destroy/]) {
    assert.ok(lines.some(line => expected.test(line)), `no line matching ${expected} in:\n${stderr}`)
  }
  assert.ok(lines.every(line => /^simple-peer \[[0-9a-f]{7}\] /.test(line)), stderr)
  const ids = new Set(lines.map(line => line.slice(13, 20)))
  assert.strictEqual(ids.size, 2, 'two peers, two ids')
  assert.ok(!stderr.includes('simple-peer-native:rust'), 'native logs stay off for DEBUG=simple-peer')
})

test('DEBUG=simple-peer-native:rust prints the native logs', async () => {
  const stderr = await runWithDebug('simple-peer-native:rust')
  assert.match(stderr, /^simple-peer-native:rust +\d+\.\d+s (DEBUG|INFO|WARN|TRACE) /m)
  assert.ok(!/^simple-peer \[/m.test(stderr), 'JS debug stays off')
})

test('without DEBUG nothing is printed', async () => {
  assert.strictEqual(await runWithDebug(undefined), '')
  assert.strictEqual(await runWithDebug('something-else'), '')
})

test('JS and native logs read DEBUG by the same rules: wildcards, lists, exclusions', async () => {
  const both = await runWithDebug('express,simple-peer-native*')
  assert.match(both, /^simple-peer \[[0-9a-f]{7}\] /m)
  assert.match(both, /^simple-peer-native:rust /m)
  const jsOnly = await runWithDebug('*,-simple-peer-native:*')
  assert.match(jsOnly, /^simple-peer \[[0-9a-f]{7}\] /m)
  assert.ok(!jsOnly.includes('simple-peer-native:rust'), 'the exclusion keeps native logs off')
})
