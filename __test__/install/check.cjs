'use strict'
// Run by scripts/install-test.sh inside a fresh project: the installed package connects.
const assert = require('assert')
const path = require('path')
const Peer = require('simple-peer-native')
const connect = require('./connect.js')

assert.ok(require.resolve('simple-peer-native').startsWith(path.join(__dirname, 'node_modules')))
connect(Peer, 'require').catch(err => { console.error(err); process.exit(1) })
