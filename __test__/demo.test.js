'use strict'
// The browser-chat demo end to end: its server and Node bot, two Chromium pages running
// simple-peer's browser bundle. Each page's line reaches the other page and comes back echoed.
const test = require('node:test')
const assert = require('node:assert/strict')
const harness = require('./browser/harness')
const { startChat } = require('../examples/browser-chat/server')

const skip = harness.chromiumAvailable()
  ? false
  : `Chromium not found at ${harness.CHROMIUM}: install it (apt-get install chromium) to run the demo test`

async function openChat (context, url, name) {
  const page = await context.newPage()
  await page.goto(`${url}?name=${name}`)
  await page.waitForFunction(() => document.getElementById('status').textContent.startsWith('connected'), null, { timeout: 20000 })
  return page
}

const logOf = page => page.$eval('#log', element => element.textContent)

async function say (page, text) {
  await page.fill('#text', text)
  await page.click('#send')
}

test('browser chat: two browsers and the Node bot chat over WebRTC', { skip, timeout: 90000 }, async () => {
  const chat = await startChat({ port: 0 })
  const context = await harness.launchChromium()
  try {
    const alice = await openChat(context, chat.url, 'alice')
    const bob = await openChat(context, chat.url, 'bob')
    assert.match(await logOf(bob), /echo-bot: hello! 1 other browser\(s\) here/)

    await say(alice, 'hi bob')
    await bob.waitForFunction(() => document.getElementById('log').textContent.includes('alice: hi bob'), null, { timeout: 10000 })
    await alice.waitForFunction(() => document.getElementById('log').textContent.includes('echo-bot: echo: hi bob'), null, { timeout: 10000 })

    await say(bob, 'hello alice')
    await alice.waitForFunction(() => document.getElementById('log').textContent.includes('bob: hello alice'), null, { timeout: 10000 })
    assert.match(await logOf(bob), /echo-bot: echo: hello alice/)
    assert.doesNotMatch(await logOf(alice), /echo: hello alice/, 'echoes go only to the sender')
  } finally {
    await context.close()
    await chat.close()
  }
})
