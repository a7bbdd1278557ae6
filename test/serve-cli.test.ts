/**
 * `tidewatch serve` as a user runs it (the built bundle through the package's bin), against
 * a separately started anvil: the documented listening line, the 0600 token file, clean
 * shutdown that flushes the store, and clear errors on bad options.
 */
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startAnvil, type AnvilProcess } from '../src/main/demo/anvil-process'
import { waitFor } from './helpers/scripted-server'

const root = path.resolve(__dirname, '..')
let anvil: AnvilProcess
beforeAll(async () => {
  anvil = await startAnvil({ blockTime: 1 })
})
afterAll(async () => anvil?.stop())

describe('tidewatch serve', () => {
  it('captures a separately started node into the data dir and flushes on SIGINT', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-serve-'))
    const child = spawn(process.execPath, ['bin/tidewatch.mjs', 'serve', '--rpc', anvil.wsUrl, '--data-dir', dataDir, '--port', '0'], {
      cwd: root,
      detached: true,
    })
    let output = ''
    child.stdout.on('data', (c: Buffer) => (output += c.toString()))
    child.stderr.on('data', (c: Buffer) => (output += c.toString()))
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    await waitFor('listening line', () => /^Tidewatch listening on http:\/\/127\.0\.0\.1:\d+\/$/m.test(output), 60_000)
    expect((fs.statSync(path.join(dataDir, 'api-token')).mode & 0o777).toString(8)).toBe('600')
    // The demo chain is not started when an upstream is given.
    expect(output).not.toContain('demo chain')

    const readHeads = () => {
      const db = new Database(path.join(dataDir, 'tidewatch.sqlite'), { readonly: true })
      try {
        return db.prepare('SELECT number, hash FROM heads ORDER BY number').all() as { number: number; hash: string }[]
      } finally {
        db.close()
      }
    }
    await waitFor('heads captured', () => readHeads().length >= 2, 30_000, 200)
    process.kill(-child.pid!, 'SIGINT')
    expect(await exit, output).toBe(0)
    expect(output).toContain('store flushed and closed')

    const heads = readHeads()
    const last = heads.at(-1)!
    const response = await fetch(anvil.httpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_getBlockByNumber', params: [`0x${last.number.toString(16)}`, false] }),
    })
    expect(((await response.json()) as { result: { hash: string } }).result.hash).toBe(last.hash)
    fs.rmSync(dataDir, { recursive: true, force: true })
  })

  it.each([
    [['--rpc', 'http://127.0.0.1:8545'], /--rpc must be a ws:\/\/ or wss:\/\/ URL/],
    [['--port', 'abc'], /--port must be a whole number/],
    [['--nope'], /Unknown option '--nope'/],
  ])('exits non-zero with a clear message on %j', (args, message) => {
    const result = spawnSync(process.execPath, ['bin/tidewatch.mjs', 'serve', ...args], { cwd: root, encoding: 'utf8' })
    expect(result.status).toBe(2)
    expect(result.stderr).toMatch(message)
    expect(result.stderr).toContain('Usage: tidewatch serve')
  })
})
