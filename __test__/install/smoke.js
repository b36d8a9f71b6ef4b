'use strict'
// The release workflow's check on platforms where the full suite does not run: the addon
// loads, two peers connect over the machine's own interfaces, bytes arrive, Node exits.
const Peer = require('../..')
require('./connect.js')(Peer, 'require').catch(err => {
  console.error(err)
  process.exit(1)
})
