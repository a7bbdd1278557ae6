/**
 * The serve process's own numbers for the soak benchmark (bench/soak.bench.ts): with
 * TIDEWATCH_METRICS_MS set, one line on stderr every that many milliseconds,
 * `tidewatch-metrics {json}`: RSS, V8 heap, open file descriptors and the event loop's
 * delay over the interval. Costs a timer and a histogram; off unless asked for.
 */
import fs from 'node:fs'
import { monitorEventLoopDelay } from 'node:perf_hooks'

export interface ProcessMetrics {
  at: number
  rssBytes: number
  heapUsedBytes: number
  heapTotalBytes: number
  externalBytes: number
  /** Entries of /proc/self/fd; null where there is no /proc. */
  openFds: number | null
  /** Event-loop delay over the interval, in ms (perf_hooks.monitorEventLoopDelay, sampled every 10 ms). */
  loopDelayP50Ms: number
  loopDelayP99Ms: number
  loopDelayMaxMs: number
}

export const METRICS_PREFIX = 'tidewatch-metrics '

export function startProcessMetrics(intervalMs: number, write: (line: string) => void): () => void {
  const delay = monitorEventLoopDelay({ resolution: 10 })
  delay.enable()
  const timer = setInterval(() => {
    const memory = process.memoryUsage()
    let openFds: number | null = null
    try {
      openFds = fs.readdirSync('/proc/self/fd').length
    } catch {
      openFds = null
    }
    const sample: ProcessMetrics = {
      at: Date.now(),
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      heapTotalBytes: memory.heapTotal,
      externalBytes: memory.external,
      openFds,
      loopDelayP50Ms: delay.percentile(50) / 1e6,
      loopDelayP99Ms: delay.percentile(99) / 1e6,
      loopDelayMaxMs: delay.max / 1e6,
    }
    delay.reset()
    write(`${METRICS_PREFIX}${JSON.stringify(sample)}\n`)
  }, intervalMs)
  timer.unref()
  return () => {
    clearInterval(timer)
    delay.disable()
  }
}

/** The metrics lines in a serve process's output, oldest first. */
export function parseProcessMetrics(output: string): ProcessMetrics[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith(METRICS_PREFIX))
    .map((line) => JSON.parse(line.slice(METRICS_PREFIX.length)) as ProcessMetrics)
}
