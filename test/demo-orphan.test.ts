/**
 * `kill -9` of `tidewatch serve` skips every exit handler; the embedded demo chain must
 * not outlive it (an orphaned anvil would keep mining and hold its port). Only the Node
 * process is killed here, not its process group, as the OOM killer or `kill -9 <pid>` do.
 */
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { expect, it } from 'vitest'
import { startServe } from './helpers/headless-process'
import { waitFor } from './helpers/scripted-server'

const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })

it('the demo chain stops when tidewatch serve is killed with SIGKILL', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-orphan-'))
  const serve = await startServe([], dataDir)
  try {
    const port = Number(await waitFor('the demo chain line', () => serve.output().match(/demo chain at ws:\/\/127\.0\.0\.1:(\d+)/)?.[1], 60_000))
    expect(await accepts(port)).toBe(true)
    process.kill(serve.pid, 'SIGKILL')
    const deadline = Date.now() + 15_000
    while ((await accepts(port)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200))
    expect(await accepts(port)).toBe(false)
  } finally {
    // Whatever is left of the group (nothing, if the guard did its job).
    try {
      process.kill(-serve.pid, 'SIGKILL')
    } catch {
      // The group is gone.
    }
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
}, 90_000)
