/**
 * `tidewatch serve` (the built bundle through the bin) against a scripted upstream: a data
 * directory left readable by an earlier version is made private at start, new files are
 * private, and listening beyond loopback says once that the token then travels in clear
 * text.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import Database from 'better-sqlite3'
import { startFakeProvider, type FakeProvider } from './helpers/fake-provider'
import { startServe, type ServeProcess } from './helpers/headless-process'
import { rawExchange } from './helpers/raw-http'
import { waitFor } from './helpers/scripted-server'

const modeOf = (file: string): string => (fs.statSync(file).mode & 0o777).toString(8)
let provider: FakeProvider
const dirs: string[] = []
const running: ServeProcess[] = []

beforeAll(async () => {
  provider = await startFakeProvider()
})
afterAll(async () => {
  for (const serve of running) await serve.kill('SIGTERM')
  await provider?.close()
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true })
})

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-serve-private-'))
  dirs.push(dir)
  return dir
}

async function serveOn(dataDir: string, args: string[] = []): Promise<ServeProcess> {
  const serve = await startServe(['--rpc', `${provider.url}/v2/upstream-key-0123456789abcdef`, ...args], dataDir)
  running.push(serve)
  return serve
}

describe('tidewatch serve: a private data directory', () => {
  it('tightens what an earlier version left readable, and writes new files private', async () => {
    const dataDir = path.join(tempDir(), 'data')
    fs.mkdirSync(path.join(dataDir, 'exports'), { recursive: true, mode: 0o755 })
    fs.chmodSync(dataDir, 0o755)
    fs.writeFileSync(path.join(dataDir, 'api-token'), `${'t'.repeat(43)}\n`, { mode: 0o644 })
    fs.writeFileSync(path.join(dataDir, 'secret.key'), Buffer.alloc(32, 7).toString('base64'), { mode: 0o644 })
    const db = path.join(dataDir, 'tidewatch.sqlite')
    new Database(db).close()
    fs.writeFileSync(`${db}-wal`, '')
    fs.writeFileSync(`${db}-shm`, '')
    fs.writeFileSync(path.join(dataDir, 'exports', 'old.csv'), 'id\n')
    for (const file of [db, `${db}-wal`, `${db}-shm`, path.join(dataDir, 'exports', 'old.csv')]) fs.chmodSync(file, 0o644)

    const serve = await serveOn(dataDir)
    expect(modeOf(dataDir)).toBe('700')
    expect(modeOf(path.join(dataDir, 'exports'))).toBe('700')
    for (const file of ['api-token', 'secret.key', 'tidewatch.sqlite', 'tidewatch.sqlite-wal', 'tidewatch.sqlite-shm', 'exports/old.csv']) {
      expect(modeOf(path.join(dataDir, file)), file).toBe('600')
    }
    expect(serve.output()).not.toMatch(/clear text/)

    // A new export, asked for as the browser does, is private too.
    const socket = new WebSocket(`${serve.baseUrl.replace(/^http/, 'ws')}ui?token=${serve.token}`)
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject))
    socket.send(JSON.stringify({ id: 1, command: 'export.start', payload: { format: 'csv' } }))
    const exported = await waitFor('the export file', () => fs.readdirSync(path.join(dataDir, 'exports')).find((name) => name !== 'old.csv'))
    socket.close()
    expect(modeOf(path.join(dataDir, 'exports', exported))).toBe('600')
  })

  it('says once that the token travels in clear text when listening on 0.0.0.0, and still serves loopback', async () => {
    const dataDir = path.join(tempDir(), 'fresh')
    const serve = await serveOn(dataDir, ['--host', '0.0.0.0'])
    await waitFor('the warning', () => /clear text/.test(serve.output()))
    expect(serve.output().match(/warning: --host 0\.0\.0\.0 .*plain HTTP.*API token.*clear text/g)).toHaveLength(1)
    for (const file of ['api-token', 'secret.key', 'tidewatch.sqlite', 'tidewatch.sqlite-wal', 'tidewatch.sqlite-shm'])
      expect(modeOf(path.join(dataDir, file)), file).toBe('600')
    expect(modeOf(dataDir)).toBe('700')
    const port = new URL(serve.baseUrl).port
    const answer = await rawExchange(Number(port), `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`)
    expect(answer.status).toBe(200)
  })
})
