// `npm start`: the desktop app where the Electron runtime is available, else headless mode.
// Electron 45 fetches its runtime on first launch; where that cannot happen (offline, or
// no binary for this platform) Tidewatch says so in one line and serves the same UI over HTTP.
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { ensureBuild, projectRoot } from './ensure-build.mjs'
import { electronSqliteBinding } from './electron-native.mjs'

const require = createRequire(import.meta.url)

/** Returns the Electron executable, fetching the runtime once if needed; or why not. */
function electronRuntime() {
  const packageDir = path.dirname(require.resolve('electron/package.json'))
  const pathFile = path.join(packageDir, 'path.txt')
  const installed = () => fs.existsSync(pathFile) && fs.existsSync(path.join(packageDir, 'dist', fs.readFileSync(pathFile, 'utf8')))
  if (!installed()) {
    const fetch = spawnSync(process.execPath, [path.join(packageDir, 'install.js')], { encoding: 'utf8', timeout: 600_000 })
    if (fetch.status !== 0 || !installed()) {
      const output = `${fetch.stderr ?? ''}${fetch.stdout ?? ''}`
      const reason = output.match(/(RequestError|HTTPError|Error): [^\n]*/)?.[0] ?? (fetch.error?.message || 'the download failed')
      return { error: reason.slice(0, 160) }
    }
  }
  return { executable: path.join(packageDir, 'dist', fs.readFileSync(pathFile, 'utf8')) }
}

ensureBuild()
const runtime = electronRuntime()
let binding = runtime.executable ? electronSqliteBinding() : null
if (runtime.executable && binding?.error) {
  console.log(`Cannot build better-sqlite3 for Electron (${binding.error}); starting headless mode instead.`)
} else if (!runtime.executable) {
  console.log(`The Electron runtime is missing and could not be fetched (${runtime.error}); starting headless mode instead.`)
}

if (runtime.executable && binding?.path) {
  const child = spawn(runtime.executable, [projectRoot, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, TIDEWATCH_SQLITE_BINDING: binding.path },
  })
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
} else {
  process.argv.splice(2, 0, 'serve')
  await import(pathToFileURL(path.join(projectRoot, 'out/main/serve.js')).href)
}
