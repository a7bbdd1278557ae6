/**
 * Export memory: 500,000 captured logs streamed to CSV and NDJSON through the Engine's
 * export path. The goal is constant memory: peak RSS must not grow with the row count, so
 * the same export of 50,000 rows is measured first for comparison.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import type { ExportProgress } from '../src/shared/contract'
import { Engine } from '../src/main/engine/engine'
import { createKeyFileSecretBox } from '../src/main/store/secret-box'
import { writeSection } from './benchmarks-md'
import { SEED_RECEIVED_AT, seedTransferLogs } from './seed-events'

function seed(engine: Engine, rows: number): void {
  const db = engine.db
  db.prepare("INSERT INTO connections (id, name, kind, url_ciphertext, display_url, created_at) VALUES (99, 'bench', 'user', 'x', 'x', 0)").run()
  db.prepare("INSERT INTO streams (id, connection_id, stream_key) VALUES (99, 99, 'bench')").run()
  seedTransferLogs(db, rows, { connectionId: 99, streamId: 99 })
}

async function measure(engine: Engine, rows: number, format: 'csv' | 'ndjson', dir: string) {
  globalThis.gc?.()
  const before = process.memoryUsage().rss
  let peak = before
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50)
  const progress: ExportProgress[] = []
  const listener = (p: ExportProgress) => progress.push(p)
  engine.on('exportProgress', listener)
  const started = performance.now()
  const id = engine.startExport({ connectionId: 99, toTime: SEED_RECEIVED_AT + rows - 1 }, format, {
    file: path.join(dir, `out-${rows}.${format}`),
    downloadUrl: null,
  })
  while (!progress.some((p) => p.exportId === id && p.state !== 'running')) await new Promise((resolve) => setTimeout(resolve, 50))
  const seconds = (performance.now() - started) / 1000
  clearInterval(sampler)
  engine.off('exportProgress', listener)
  const done = progress.find((p) => p.exportId === id && p.state !== 'running')!
  expect(done.state).toBe('done')
  expect(done.rows).toBe(rows)
  const size = fs.statSync(done.file!).size
  // Every row is in the file: count lines without reading it whole.
  let lines = 0
  for await (const chunk of fs.createReadStream(done.file!)) for (const byte of chunk as Buffer) if (byte === 10) lines++
  expect(lines).toBe(format === 'csv' ? rows + 1 : rows)
  fs.rmSync(done.file!)
  return { rows, format, seconds, rate: rows / seconds, growthMiB: (peak - before) / 2 ** 20, fileMiB: size / 2 ** 20 }
}

describe('export', () => {
  it('streams half a million decoded rows in constant memory', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-bench-export-'))
    const engine = new Engine({ dataDir: dir, secrets: createKeyFileSecretBox(dir) })
    const seedStart = performance.now()
    seed(engine, 500_000)
    const seedSeconds = (performance.now() - seedStart) / 1000
    const results = []
    for (const format of ['csv', 'ndjson'] as const) for (const rows of [50_000, 500_000]) results.push(await measure(engine, rows, format, dir))
    await engine.close()
    fs.rmSync(dir, { recursive: true, force: true })
    for (const r of results)
      console.log(`${r.format} ${r.rows}: ${r.rate.toFixed(0)} rows/s, RSS growth ${r.growthMiB.toFixed(1)} MiB, file ${r.fileMiB.toFixed(0)} MiB`)
    const cpu = os.cpus()[0]?.model ?? 'unknown CPU'
    // BENCH_WRITE=0: measure and print only, as the other benchmarks take it.
    if (process.env.BENCH_WRITE !== '0')
      writeSection(
        'export',
        `## Export: captured events → file

Command: \`npm run bench\` (\`npx vitest run --config bench/vitest.bench.config.ts export\`; source \`bench/export.bench.ts\`).

500,000 ERC-20 Transfer rows are seeded into a fresh store (${seedSeconds.toFixed(1)} s), then exported through \`Engine.startExport\` (the path of the Export dialog) to CSV and NDJSON, with every row decoded. The goal is constant memory: RSS growth during the export must not depend on the row count, so each format is measured at 50,000 and at 500,000 rows. Every export is checked for its row count.

Measured ${new Date().toISOString().slice(0, 10)} on ${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM; Node ${process.version}.

| Format | Rows | Time | Rows/s | RSS growth during export | File |
|---|---:|---:|---:|---:|---:|
${results.map((r) => `| ${r.format.toUpperCase()} | ${r.rows.toLocaleString('en-US')} | ${r.seconds.toFixed(1)} s | ${Math.round(r.rate).toLocaleString('en-US')} | ${r.growthMiB.toFixed(1)} MiB | ${r.fileMiB.toFixed(0)} MiB |`).join('\n')}
`,
      )
    const [csvSmall, csvLarge, ndSmall, ndLarge] = results
    // Ten times the rows must not cost ten times the memory: the export streams.
    expect(csvLarge!.growthMiB).toBeLessThan(Math.max(64, csvSmall!.growthMiB * 3))
    expect(ndLarge!.growthMiB).toBeLessThan(Math.max(64, ndSmall!.growthMiB * 3))
  })
})
