/**
 * Where and when a benchmark ran, for its section of BENCHMARKS.md: the machine and the
 * versions that shape the numbers, the commit, how busy the CPUs were. Shared by the
 * benchmarks so every section names its context the same way.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'

const benchDir = path.dirname(fileURLToPath(import.meta.url))
const require = createRequire(import.meta.url)

/** An integer from the environment; `_` and `,` are allowed as digit separators (BENCH_LOGS=300_000). */
export const envInt = (name: string, fallback: number): number => {
  const value = process.env[name]?.replace(/[_,]/g, '')
  return value ? Number.parseInt(value, 10) : fallback
}

export const versionOf = (pkg: string): string => (require(`${pkg}/package.json`) as { version: string }).version

export function machine(): string {
  const cpus = os.cpus()
  const db = new Database(':memory:')
  const sqlite = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v
  db.close()
  return `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()}; Node ${process.version}, SQLite ${sqlite}, better-sqlite3 ${versionOf('better-sqlite3')}, ws ${versionOf('ws')}`
}

export function gitCommit(): string {
  try {
    // Works in a git worktree too, where .git is a file pointing elsewhere.
    return execFileSync('git', ['rev-parse', '--short=7', 'HEAD'], {
      cwd: path.join(benchDir, '..'),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim()
  } catch {
    // No git on this machine: read .git/HEAD below.
  }
  try {
    const root = path.join(benchDir, '..')
    const head = fs.readFileSync(path.join(root, '.git', 'HEAD'), 'utf8').trim()
    const sha = head.startsWith('ref: ') ? fs.readFileSync(path.join(root, '.git', head.slice(5)), 'utf8').trim() : head
    return sha.slice(0, 7)
  } catch {
    return 'unknown'
  }
}

export interface CpuTimes {
  idle: number
  total: number
}

/** All cores' idle and total time so far (ms); two samples give the share spent busy between them. */
export function cpuTimes(): CpuTimes {
  return os
    .cpus()
    .reduce((sum, cpu) => ({ idle: sum.idle + cpu.times.idle, total: sum.total + Object.values(cpu.times).reduce((a, b) => a + b, 0) }), { idle: 0, total: 0 })
}

/** Share of all cores' time spent busy since `before`. */
export function cpuBusySince(before: CpuTimes): number {
  const after = cpuTimes()
  return 1 - (after.idle - before.idle) / Math.max(1, after.total - before.total)
}

/** Share of all cores' time spent busy over `ms`: other work on the machine skews the numbers. */
export async function cpuBusy(ms: number): Promise<number> {
  const before = cpuTimes()
  await new Promise((resolve) => setTimeout(resolve, ms))
  return cpuBusySince(before)
}
