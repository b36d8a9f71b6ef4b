'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('fs')
const path = require('path')
const { spawnSync } = require('child_process')

// scripts/test.sh builds this debug addon; release builds carry no way to force a panic.
const DEBUG_ADDON = path.join(__dirname, '..', 'target', 'debug', 'simple-peer-native.node')
const skip = fs.existsSync(DEBUG_ADDON) ? false : `no debug addon at ${DEBUG_ADDON}: run npm test, which builds it`

test('a panic inside the addon becomes an exception or a coded error, and the process lives on', { skip, timeout: 60000 }, () => {
  const child = spawnSync(process.execPath, [path.join(__dirname, 'fixtures', 'panic.js')], {
    env: Object.assign({}, process.env, { NAPI_RS_NATIVE_LIBRARY_PATH: DEBUG_ADDON }),
    encoding: 'utf8',
    timeout: 50000
  })
  assert.equal(child.status, 0, child.stderr)
  const report = JSON.parse(child.stdout.trim().split('\n').pop())
  assert.match(report.sync, /^Error: .*forced by _panicForTest/)
  assert.equal(report.task.code, 'ERR_INTERNAL')
  assert.match(report.task.message, /forced by _panicForTest/)
  assert.equal(report.othersConnect, true)
})
