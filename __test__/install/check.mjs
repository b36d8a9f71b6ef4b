// Run by scripts/install-test.sh inside a fresh project: the ESM entry connects too.
import assert from 'node:assert'
import { createRequire } from 'node:module'
import Peer from 'simple-peer-native'

const require = createRequire(import.meta.url)
const connect = require('./connect.js')
assert.strictEqual(Peer, require('simple-peer-native'), 'one class for import and require')
await connect(Peer, 'import')
