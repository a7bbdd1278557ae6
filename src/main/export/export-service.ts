/**
 * Streams captured events to a file: rows come from the store a page at a time (one short
 * statement each, so the store's connection stays free for capture between them) and go out
 * through a write stream that is awaited when its buffer fills, so memory stays flat for
 * millions of rows. Rows are
 * joined into chunks of about 64 KiB before they are written: one write per row cost more
 * than formatting the row. Progress is reported a few times a second; cancel stops between
 * rows and removes the partial file.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import { once } from 'node:events'
import type { ExportProgress } from '../../shared/contract'
import type { StoredEventRow } from '../store/event-store'
import { fastKeccakReady } from '../decode/address-checksum'
import { csvHeader, type EventLines } from './event-formats'

/** Rows are written in chunks of about this many characters. */
const CHUNK = 64 * 1024
/** Bytes the file stream holds before a write waits: the disk writes the last chunks while the next ones are made. */
const BUFFERED = 1024 * 1024

export type ExportFormat = 'csv' | 'ndjson' | 'json'

/** An export's rows, oldest first, a page at a time, and how to write each one. */
export interface ExportSource {
  total: number
  pages: Iterable<readonly StoredEventRow[]>
  lines: EventLines
}

export interface ExportDestination {
  file: string
  /** Headless mode: where a browser downloads the file from. */
  downloadUrl: string | null
  /** The file's mode when it is created (the data directory's exports are private); else the default. */
  mode?: number
}

export class ExportService {
  private readonly cancelled = new Set<string>()
  private readonly running = new Set<string>()

  constructor(private readonly report: (progress: ExportProgress) => void) {}

  start(source: ExportSource, format: ExportFormat, destination: ExportDestination): string {
    const exportId = crypto.randomUUID()
    this.running.add(exportId)
    void this.run(exportId, source, format, destination)
    return exportId
  }

  cancel(exportId: string): boolean {
    if (!this.running.has(exportId)) return false
    this.cancelled.add(exportId)
    return true
  }

  private async run(exportId: string, source: ExportSource, format: ExportFormat, destination: ExportDestination): Promise<void> {
    const progress = (state: ExportProgress['state'], rows: number, error: string | null = null): void =>
      this.report({
        exportId,
        state,
        rows,
        totalRows: source.total,
        file: destination.file,
        downloadUrl: state === 'done' ? destination.downloadUrl : null,
        error,
      })
    const out = fs.createWriteStream(destination.file, {
      encoding: 'utf8',
      highWaterMark: BUFFERED,
      ...(destination.mode === undefined ? {} : { mode: destination.mode }),
    })
    let failure: Error | null = null
    out.on('error', (error) => (failure = error))
    let rows = 0
    let lastReport = 0
    try {
      progress('running', 0)
      // Addresses are checksummed with the WebAssembly keccak, which loads once, asynchronously.
      await fastKeccakReady
      if (format === 'csv') out.write(csvHeader())
      if (format === 'json') out.write('[\n')
      let chunk = ''
      const { lines } = source
      pages: for (const page of source.pages) {
        for (const row of page) {
          if (failure) throw failure
          if (this.cancelled.has(exportId)) break pages
          chunk += format === 'csv' ? lines.csv(row) : format === 'ndjson' ? `${lines.json(row)}\n` : `${rows > 0 ? ',\n' : ''}${lines.json(row)}`
          rows += 1
          if (chunk.length < CHUNK) continue
          const full = !out.write(chunk)
          chunk = ''
          if (full) await once(out, 'drain')
          if (Date.now() - lastReport > 200) {
            lastReport = Date.now()
            progress('running', rows)
            // Let the socket and the UI breathe between chunks of a long export.
            await new Promise((resolve) => setImmediate(resolve))
          }
        }
      }
      if (chunk) out.write(chunk)
      if (format === 'json') out.write('\n]\n')
      out.end()
      await once(out, 'finish')
      if (failure) throw failure
      if (this.cancelled.has(exportId)) {
        fs.rmSync(destination.file, { force: true })
        progress('cancelled', rows)
      } else progress('done', rows)
    } catch (error) {
      out.destroy()
      const message = error instanceof Error ? error.message : String(error)
      const full = /ENOSPC/.test(message) ? 'The disk is full; free some space and export again (nothing captured was lost)' : message
      progress('failed', rows, `Export failed: ${full}`)
    } finally {
      this.running.delete(exportId)
      this.cancelled.delete(exportId)
    }
  }
}
