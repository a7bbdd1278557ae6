/**
 * Issue #10: `tidewatch serve` on a data directory it cannot write says so in one line
 * naming the directory, and exits with status 73 (EX_CANTCREAT), whether the directory is
 * new or already holds a store. Runs the built bundle through the package's bin.
 *
 * Root ignores a directory's mode, and these tests usually run as root: there the serve
 * process runs as `nobody` (spawn's uid/gid), with the directory owned by nobody and mode
 * 0500, which is a real read-only directory for that user; no mount and no PRAGMA trick.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase } from '../src/main/store/database'
import { DATABASE_FILE } from '../src/main/engine/engine'

const root = path.resolve(__dirname, '..')
const NOBODY = 65534
const asRoot = process.getuid?.() === 0

// The bin builds a stale bundle on start, which `nobody` may not write: build as ourselves first.
beforeAll(() => {
  const build = spawnSync(process.execPath, ['-e', "import('./scripts/ensure-build.mjs').then((m) => m.ensureBuild())"], { cwd: root, encoding: 'utf8' })
  if (build.status !== 0) throw new Error(`build failed:\n${build.stderr}`)
}, 300_000)

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) {
    fs.chmodSync(dir, 0o700)
    fs.rmSync(path.dirname(dir), { recursive: true, force: true })
  }
})

/** A data directory its user may read but not write. */
function readOnlyDir(prepare: (dir: string) => void = () => undefined): string {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-readonly-'))
  fs.chmodSync(parent, 0o755)
  const dir = path.join(parent, 'data')
  fs.mkdirSync(dir)
  prepare(dir)
  if (asRoot) for (const entry of [dir, ...fs.readdirSync(dir).map((name) => path.join(dir, name))]) fs.chownSync(entry, NOBODY, NOBODY)
  fs.chmodSync(dir, 0o500)
  dirs.push(dir)
  return dir
}

function serve(dataDir: string): { status: number | null; stderr: string; stdout: string } {
  const result = spawnSync(process.execPath, ['bin/tidewatch.mjs', 'serve', '--rpc', 'ws://127.0.0.1:9', '--data-dir', dataDir, '--port', '0'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
    ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
  })
  return { status: result.status, stderr: result.stderr, stdout: result.stdout }
}

describe('a read-only data directory', () => {
  it('a new one: one message naming the directory, exit status 73, nothing created', () => {
    const dir = readOnlyDir()
    const { status, stderr, stdout } = serve(dir)
    expect(stdout).toBe('')
    expect(stderr.trim().split('\n')).toEqual([
      `tidewatch serve: The data directory ${dir} is read-only (EACCES): Tidewatch keeps its store, API token and keys there. Make it writable or pick another with --data-dir.`,
    ])
    expect(status).toBe(73)
    expect(fs.readdirSync(dir)).toEqual([])
  })

  it('one that already holds a store: the same, and the store is left as it was', () => {
    const dir = readOnlyDir((d) => {
      const db = openDatabase(path.join(d, DATABASE_FILE))
      db.pragma('journal_mode = DELETE')
      db.close()
      fs.writeFileSync(path.join(d, 'api-token'), `${'t'.repeat(43)}\n`, { mode: 0o600 })
    })
    const before = fs.readFileSync(path.join(dir, DATABASE_FILE))
    const { status, stderr } = serve(dir)
    expect(stderr.trim().split('\n')).toHaveLength(1)
    expect(stderr).toContain(`The data directory ${dir} is read-only`)
    expect(status).toBe(73)
    expect(fs.readdirSync(dir).sort()).toEqual(['api-token', DATABASE_FILE])
    expect(fs.readFileSync(path.join(dir, DATABASE_FILE)).equals(before)).toBe(true)
  })
})
