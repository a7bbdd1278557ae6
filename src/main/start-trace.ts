/**
 * `TIDEWATCH_TRACE_START=1`: each step of the start is written to stderr with the
 * milliseconds since the process started (performance.now()), to see where the time from
 * spawn to serving goes. Off, it costs one comparison per step.
 */
const enabled = process.env.TIDEWATCH_TRACE_START === '1'

export function traceStart(step: string): void {
  if (enabled) process.stderr.write(`[start +${performance.now().toFixed(1)} ms] ${step}\n`)
}
