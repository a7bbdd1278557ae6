#!/usr/bin/env node
// `tidewatch serve [options]`: headless mode (PROTOCOL.md section 3).
import { pathToFileURL } from 'node:url'
import path from 'node:path'
import { ensureBuild, projectRoot } from '../scripts/ensure-build.mjs'

const [command] = process.argv.slice(2)
if (command !== 'serve') {
  process.stderr.write(
    `Usage: tidewatch serve [--rpc <ws url>] [--data-dir <dir>] [--port <port>] …\n${command ? `Unknown command ${JSON.stringify(command)}.\n` : ''}`,
  )
  process.exit(2)
}
// TIDEWATCH_TRACE_START=1: the start's steps with their time (src/main/start-trace.ts).
const trace = process.env.TIDEWATCH_TRACE_START === '1' ? (step) => process.stderr.write(`[start +${performance.now().toFixed(1)} ms] ${step}\n`) : () => {}
trace('bin: started')
ensureBuild()
trace('bin: build checked; loading the bundle')
await import(pathToFileURL(path.join(projectRoot, 'out/main/serve.js')).href)
