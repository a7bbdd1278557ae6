/**
 * An export's rows come from the store a page at a time: every row in id order, the rows
 * there at the start, the store's connection free for capture's writes meanwhile; a reading
 * failure or a cancel ends the export clearly.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { waitFor } from '../../../test/helpers/scripted-server'
import type { ExportProgress } from '../../shared/contract'
import type { NormalizedEvent } from '../store/captured-event'
import { openDatabase, type Db } from '../store/database'
import { EventStore, type StoredEventRow } from '../store/event-store'
import { eventLines } from './event-formats'
import { BufferedFile } from './buffered-file'
import { ExportService, type ExportSource } from './export-service'

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup()
})

const head = (n: number): NormalizedEvent => ({
  kind: 'head',
  blockNumber: n,
  blockHash: `0x${n.toString(16).padStart(64, '0')}`,
  transactionHash: null,
  transactionIndex: null,
  logIndex: null,
  address: null,
  topics: [],
  data: null,
  removed: false,
  payload: { number: `0x${n.toString(16)}` },
})

function open(file: 'file' | 'memory', rows: number): { dir: string; file: string; db: Db; store: EventStore } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-export-'))
  const name = file === 'file' ? path.join(dir, 'tidewatch.db') : ':memory:'
  const db = openDatabase(name)
  db.prepare("INSERT INTO connections (id, name, kind, url_ciphertext, display_url, created_at) VALUES (1, 'c', 'user', 'x', 'ws://x', 0)").run()
  const store = new EventStore(db, { flushIntervalMs: 10_000 })
  for (let i = 0; i < rows; i++) store.enqueue(1, 1, head(i), 1_700_000_000_000 + i)
  store.flush()
  cleanups.push(() => {
    store.close()
    db.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  return { dir, file: name, db, store }
}

const lines = eventLines({ subscriptionIds: () => [], finalized: () => -1, decodeJson: () => null })

function sourceOf(store: EventStore): ExportSource {
  const { total, pages } = store.iterate({ connectionId: 1 })
  return { total, pages, lines }
}

function exportTo(source: ExportSource, file: string): { progress: ExportProgress[]; service: ExportService; id: string } {
  const progress: ExportProgress[] = []
  const service = new ExportService((p) => progress.push(p))
  return { progress, service, id: service.start(source, 'ndjson', { file, downloadUrl: null }) }
}

describe('export pages', () => {
  for (const kind of ['file', 'memory'] as const)
    it(`reads a ${kind} store's rows in id order a page at a time, those there at the start, while its connection takes writes`, () => {
      const { db, store } = open(kind, 50)
      const { total, pages } = store.iterate({ connectionId: 1 }, 7)
      expect(total).toBe(50)
      const ids: number[] = []
      const sizes: number[] = []
      for (const page of pages) {
        sizes.push(page.length)
        ids.push(...page.map((row) => row[0]))
        // Capture goes on meanwhile: a write on the store's own connection (refused while a statement is open), and rows arriving after the start.
        db.prepare('UPDATE connections SET name = ? WHERE id = 1').run(`c${ids.length}`)
        store.enqueue(1, 1, head(1_000 + ids.length), 1_800_000_000_000)
        store.flush()
      }
      expect(sizes).toEqual([7, 7, 7, 7, 7, 7, 7, 1])
      expect(ids).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
      expect(store.iterate({ connectionId: 1 }).total).toBe(58)
    })

  it('ends an export with why its rows could not be read', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-export-'))
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }))
    const { store } = open('memory', 3)
    const { total, pages } = store.iterate({ connectionId: 1 }, 2)
    function* failing(): Generator<StoredEventRow[]> {
      for (const page of pages) {
        yield page
        throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' })
      }
    }
    const { progress, id } = exportTo({ total, pages: failing(), lines }, path.join(dir, 'out.ndjson'))
    await waitFor('the export to end', () => progress.some((p) => p.exportId === id && p.state !== 'running'))
    expect(progress.at(-1)).toMatchObject({ state: 'failed', rows: 2, error: 'Export failed: disk I/O error' })
  })

  it('stops reading when an export is cancelled, and the next export gets every row', async () => {
    const { dir, store } = open('file', 5_000)
    const cancelled = exportTo(sourceOf(store), path.join(dir, 'cancelled.ndjson'))
    expect(cancelled.service.cancel(cancelled.id)).toBe(true)
    await waitFor('the cancel', () => cancelled.progress.some((p) => p.state !== 'running'))
    expect(cancelled.progress.at(-1)).toMatchObject({ state: 'cancelled', rows: 0 })
    expect(fs.existsSync(path.join(dir, 'cancelled.ndjson'))).toBe(false)
    const done = exportTo(sourceOf(store), path.join(dir, 'done.ndjson'))
    await waitFor('the export', () => done.progress.some((p) => p.state !== 'running'))
    expect(done.progress.at(-1)).toMatchObject({ state: 'done', rows: 5_000, totalRows: 5_000 })
    const written = fs.readFileSync(path.join(dir, 'done.ndjson'), 'utf8').trimEnd().split('\n')
    expect(written.map((line) => (JSON.parse(line) as { id: number }).id)).toEqual(Array.from({ length: 5_000 }, (_, i) => i + 1))
  })
})

describe('export files', () => {
  it('holds every byte of text added in any sizes, however many buffers it fills', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-export-'))
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }))
    const file = await BufferedFile.open(path.join(dir, 'out.txt'))
    const parts = ['é ü 😀 ', 'a'.repeat(70_000), 'x,"y"\n', 'z'.repeat(2_000_000), '']
    let expected = ''
    for (let i = 0; i < 200; i++) {
      const part = parts[i % parts.length]!.slice(0, i % 3 === 0 ? undefined : 1_000 + i)
      expected += part
      await file.write(part)
    }
    await file.close()
    expect(fs.readFileSync(path.join(dir, 'out.txt'), 'utf8')).toBe(expected)
  })

  it.skipIf(!fs.existsSync('/dev/full'))('tells a full disk apart, the store untouched', async () => {
    const { store } = open('memory', 5_000)
    const progress: ExportProgress[] = []
    new ExportService((p) => progress.push(p)).start(sourceOf(store), 'csv', { file: '/dev/full', downloadUrl: null })
    await waitFor('the export to end', () => progress.some((p) => p.state !== 'running'))
    expect(progress.at(-1)).toMatchObject({
      state: 'failed',
      error: 'Export failed: The disk is full; free some space and export again (nothing captured was lost)',
    })
    expect(store.iterate({ connectionId: 1 }).total).toBe(5_000)
  })
})
