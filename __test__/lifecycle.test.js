'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('child_process')
const path = require('path')

function run (script, args, ms) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', path.join(__dirname, script), ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
    let stdout = ''
    child.stdout.on('data', chunk => { stdout += chunk })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${script} did not exit by itself within ${ms} ms`))
    }, ms)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout })
    })
  })
}

test('200 connect/destroy cycles leave no socket, thread or growing memory, and the process exits by itself', async () => {
  const { code, stdout } = await run('fixtures/cycles.js', ['200'], 120000)
  assert.equal(code, 0)
  const { baseline, samples } = JSON.parse(stdout)
  const first = samples[0]
  const last = samples[samples.length - 1]
  assert.equal(last.cycle, 200)
  for (const sample of samples) {
    assert.equal(sample.sockets, baseline.sockets, `sockets after cycle ${sample.cycle}`)
  }
  // The shared runtime's threads are created once; peers add none that outlive them.
  assert.equal(last.threads, first.threads)
  const growth = (last.rss - samples[1].rss) / (1024 * 1024)
  assert.ok(growth < 16, `RSS grew ${growth.toFixed(1)} MiB between cycle 50 and 200`)
})

test('a process that only creates and destroys an unconnected peer exits by itself', async () => {
  const script = "const P = require('../..'); const p = new P({ initiator: true, config: { iceServers: [] } }); p.on('signal', () => p.destroy())"
  const { code } = await run('fixtures/eval.js', [script], 10000)
  assert.equal(code, 0)
})
