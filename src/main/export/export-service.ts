/**
 * Streams captured events to a file: rows come from SQLite one at a time and go out
 * through a write stream that is awaited when its buffer fills, so memory stays flat for
 * millions of rows. Rows are joined into chunks of about 16 KiB before they are written:
 * one write per row cost more than formatting the row. Progress is reported a few times a
 * second; cancel stops between rows and removes the partial file.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import { once } from 'node:events'
import type { CapturedEvent, ExportProgress } from '../../shared/contract'
import { csvHeader, csvRow, jsonRecord } from './event-formats'

/** Rows are written in chunks of about this many characters. */
const CHUNK = 16 * 1024

export type ExportFormat = 'csv' | 'ndjson' | 'json'

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

  start(source: { total: number; rows: Iterable<CapturedEvent> }, format: ExportFormat, destination: ExportDestination): string {
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

  private async run(
    exportId: string,
    source: { total: number; rows: Iterable<CapturedEvent> },
    format: ExportFormat,
    destination: ExportDestination,
  ): Promise<void> {
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
      highWaterMark: 4 * CHUNK,
      ...(destination.mode === undefined ? {} : { mode: destination.mode }),
    })
    let failure: Error | null = null
    out.on('error', (error) => (failure = error))
    let rows = 0
    let lastReport = 0
    try {
      progress('running', 0)
      if (format === 'csv') out.write(csvHeader())
      if (format === 'json') out.write('[\n')
      let chunk = ''
      for (const event of source.rows) {
        if (failure) throw failure
        if (this.cancelled.has(exportId)) break
        chunk += format === 'csv' ? csvRow(event) : `${format === 'json' && rows > 0 ? ',\n' : ''}${jsonRecord(event)}${format === 'ndjson' ? '\n' : ''}`
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
