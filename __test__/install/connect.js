'use strict'
// Two peers of the installed package, bytes checked both ways, then a clean exit.
const assert = require('assert')

module.exports = function connect (Peer, how) {
  const config = { iceServers: [] }
  const a = new Peer({ initiator: true, config })
  const b = new Peer({ config })
  a.on('signal', data => b.signal(data))
  b.on('signal', data => a.signal(data))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${how}: no data within 10 s`)), 10000)
    a.on('error', reject)
    b.on('error', reject)
    b.on('connect', () => b.send(`hello from ${how}`))
    a.on('data', data => {
      clearTimeout(timer)
      try {
        assert.strictEqual(String(data), `hello from ${how}`)
      } catch (err) { return reject(err) }
      a.destroy()
      b.destroy()
      console.log(`installed package connects through ${how}`)
      resolve()
    })
  })
}
