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
ensureBuild()
await import(pathToFileURL(path.join(projectRoot, 'out/main/serve.js')).href)
