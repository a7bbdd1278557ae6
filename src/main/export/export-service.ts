/**
 * Streams captured events to a file: rows come from the store a page at a time (one short
 * statement each, so the store's connection stays free for capture between them) and go out
 * through two fixed buffers (buffered-file.ts) that wait for the disk when both are full, so
 * memory stays flat for millions of rows. Rows are joined into chunks of about 64 KiB before
 * they are added: one call per row cost more than formatting the row. Progress is reported a
 * few times a second; cancel stops between rows and removes the partial file.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import type { ExportProgress } from '../../shared/contract'
import type { StoredEventRow } from '../store/event-store'
import { fastKeccakReady } from '../decode/address-checksum'
import { BufferedFile } from './buffered-file'
import { csvHeader, type EventLines } from './event-formats'

/** Rows are joined into chunks of about this many characters before they go to the file's buffer. */
const CHUNK = 64 * 1024

export type ExportFormat = 'csv' | 'ndjson' | 'json'

/** An export's rows, oldest first, a page at a time, and how to write each one. */
export interface ExportSource {
  total: number
  /** SQLite's pages are read as they are asked for; PostgreSQL's arrive. */
  pages: Iterable<readonly StoredEventRow[]> | AsyncIterable<readonly StoredEventRow[]>
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
    let out: BufferedFile | null = null
    let rows = 0
    let lastReport = 0
    try {
      progress('running', 0)
      out = await BufferedFile.open(destination.file, destination.mode)
      // Addresses are checksummed with the WebAssembly keccak, which loads once, asynchronously.
      await fastKeccakReady
      if (format === 'csv') await out.write(csvHeader())
      if (format === 'json') await out.write('[\n')
      let chunk = ''
      const { lines } = source
      pages: for await (const page of source.pages) {
        for (const row of page) {
          if (this.cancelled.has(exportId)) break pages
          chunk += format === 'csv' ? lines.csv(row) : format === 'ndjson' ? `${lines.json(row)}\n` : `${rows > 0 ? ',\n' : ''}${lines.json(row)}`
          rows += 1
          if (chunk.length < CHUNK) continue
          await out.write(chunk)
          chunk = ''
          if (Date.now() - lastReport > 200) {
            lastReport = Date.now()
            progress('running', rows)
            // Let the socket and the UI breathe between chunks of a long export.
            await new Promise((resolve) => setImmediate(resolve))
          }
        }
      }
      if (this.cancelled.has(exportId)) {
        await out.abandon()
        fs.rmSync(destination.file, { force: true })
        progress('cancelled', rows)
      } else {
        await out.write(chunk)
        if (format === 'json') await out.write('\n]\n')
        await out.close()
        progress('done', rows)
      }
    } catch (error) {
      await out?.abandon().catch(() => undefined)
      const message = error instanceof Error ? error.message : String(error)
      const full = /ENOSPC/.test(message) ? 'The disk is full; free some space and export again (nothing captured was lost)' : message
      progress('failed', rows, `Export failed: ${full}`)
    } finally {
      this.running.delete(exportId)
      this.cancelled.delete(exportId)
    }
  }
}
