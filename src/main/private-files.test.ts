/**
 * Everything Tidewatch writes into its data directory is owner-only, whoever writes it:
 * the store (with its -wal and -shm files), the API token, the key of saved URLs and the
 * exports folder; copies left readable before are tightened when they are opened.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ExportService } from './export/export-service'
import { eventLines } from './export/event-formats'
import { exportsDir, exportsFolderDestination, makeExportsPrivate } from './export/exports-folder'
import { loadOrCreateApiToken } from './server/api-token'
import { openDatabase } from './store/database'
import { createKeyFileSecretBox } from './store/secret-box'
import { waitFor } from '../../test/helpers/scripted-server'

const modeOf = (file: string): string => (fs.statSync(file).mode & 0o777).toString(8)
let dataDir: string

beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-private-'))
})
afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }))

describe('the store', () => {
  it('creates the database, its -wal and its -shm with mode 0600', () => {
    const file = path.join(dataDir, 'tidewatch.sqlite')
    const db = openDatabase(file)
    try {
      db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)')
      for (const part of [file, `${file}-wal`, `${file}-shm`]) expect(modeOf(part), part).toBe('600')
    } finally {
      db.close()
    }
  })

  it('leaves in-memory databases without a file', () => {
    const cwd = process.cwd()
    process.chdir(dataDir)
    try {
      openDatabase(':memory:').close()
      expect(fs.readdirSync(dataDir)).toEqual([])
    } finally {
      process.chdir(cwd)
    }
  })

  it('tightens a database, -wal and -shm left readable by others', () => {
    const file = path.join(dataDir, 'tidewatch.sqlite')
    openDatabase(file).close()
    fs.writeFileSync(`${file}-wal`, '')
    fs.writeFileSync(`${file}-shm`, '')
    for (const part of [file, `${file}-wal`, `${file}-shm`]) fs.chmodSync(part, 0o644)
    const db = openDatabase(file)
    try {
      for (const part of [file, `${file}-wal`, `${file}-shm`]) expect(modeOf(part), part).toBe('600')
      expect(db.prepare('SELECT version FROM schema_migrations').all().length).toBeGreaterThan(0)
    } finally {
      db.close()
    }
  })
})

describe('keys and tokens', () => {
  it('creates secret.key with 0600 and tightens an existing one', () => {
    const box = createKeyFileSecretBox(dataDir)
    const key = path.join(dataDir, 'secret.key')
    expect(modeOf(key)).toBe('600')
    const sealed = box.encrypt('wss://eth-mainnet.example/v2/key')
    fs.chmodSync(key, 0o644)
    expect(createKeyFileSecretBox(dataDir).decrypt(sealed)).toBe('wss://eth-mainnet.example/v2/key')
    expect(modeOf(key)).toBe('600')
  })

  it('creates api-token with 0600 in a 0700 directory and tightens an existing token', () => {
    const dir = path.join(dataDir, 'fresh')
    const token = loadOrCreateApiToken(dir)
    expect(modeOf(dir)).toBe('700')
    expect(modeOf(path.join(dir, 'api-token'))).toBe('600')
    fs.chmodSync(path.join(dir, 'api-token'), 0o644)
    expect(loadOrCreateApiToken(dir)).toBe(token)
    expect(modeOf(path.join(dir, 'api-token'))).toBe('600')
  })
})

describe('exports', () => {
  it('writes exports into a 0700 folder as 0600 files', async () => {
    const destination = await exportsFolderDestination(dataDir)('events.csv')
    const reports: string[] = []
    const lines = eventLines({ subscriptionIds: () => [], finalized: () => -1, decodeJson: () => null })
    new ExportService((progress) => reports.push(progress.state)).start({ total: 0, pages: [], lines }, 'csv', destination)
    await waitFor('the export', () => reports.includes('done'))
    expect(modeOf(exportsDir(dataDir))).toBe('700')
    expect(modeOf(destination.file)).toBe('600')
  })

  it('tightens an exports folder and its files left readable, and needs none', () => {
    makeExportsPrivate(dataDir)
    expect(fs.existsSync(exportsDir(dataDir))).toBe(false)
    fs.mkdirSync(exportsDir(dataDir), { mode: 0o755 })
    fs.writeFileSync(path.join(exportsDir(dataDir), 'old.csv'), 'id\n', { mode: 0o644 })
    makeExportsPrivate(dataDir)
    expect(modeOf(exportsDir(dataDir))).toBe('700')
    expect(modeOf(path.join(exportsDir(dataDir), 'old.csv'))).toBe('600')
  })
})
