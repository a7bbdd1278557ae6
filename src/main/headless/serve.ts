/**
 * Headless mode: capture plus the same UI and contract over HTTP/WebSocket, no window.
 * Entry of `npm run serve` and of the `tidewatch` bin.
 */
import fs from 'node:fs'
import { startTidewatch } from '../app/bootstrap'
import { DataDirError, ensureWritableDataDir } from '../app/data-dir'
import { StoreOpenError } from '../store/database'
import { rendererRoot } from '../app/project-paths'
import { loadOrCreateApiToken } from '../server/api-token'
import { startHttpServer, uiRoute } from '../server/http-server'
import { serveUiSocket } from '../server/ui-socket'
import { streamRoute } from '../stream/stream-endpoint'
import { rpcRoute } from '../rpc-endpoint/rpc-endpoint'
import { primaryStreamDeps } from '../stream/primary-watches'
import { headlessLocalApi } from '../app/local-api'
import { EXPORTS_PATH, exportsDir } from '../export/exports-folder'
import { createKeyFileSecretBox } from '../store/secret-box'
import { makePrivateDir } from '../private-files'
import { redactUrl } from '../redact-url'
import { OptionsError, parseServeOptions, plainHttpWarning, USAGE } from './options'
import { startProcessMetrics } from './process-metrics'
import { traceStart } from '../start-trace'

const log = (message: string): void => {
  process.stderr.write(`${new Date().toISOString()} ${message}\n`)
}

export async function serve(argv: string[]): Promise<void> {
  traceStart('serve: bundle loaded')
  let options
  try {
    options = parseServeOptions(argv)
  } catch (error) {
    if (!(error instanceof OptionsError)) throw error
    process.stderr.write(`tidewatch serve: ${error.message}\n\n${USAGE}\n`)
    process.exit(2)
  }
  if (!fs.existsSync(rendererRoot)) {
    process.stderr.write(`tidewatch serve: the user interface is not built (${rendererRoot} is missing); run \`npm run build\` first.\n`)
    process.exit(1)
  }
  ensureWritableDataDir(options.dataDir)
  const metricsMs = Number(process.env.TIDEWATCH_METRICS_MS)
  if (metricsMs > 0) startProcessMetrics(metricsMs, (line) => process.stderr.write(line))
  makePrivateDir(options.dataDir)
  const token = loadOrCreateApiToken(options.dataDir)
  const secrets = createKeyFileSecretBox(options.dataDir)
  // A shared store: capture and view with the other instances on it; no demo chain of its own.
  // Loaded only for a shared store: the PostgreSQL client is tens of modules, and serve's start waits for every module it imports.
  const store = options.store
    ? await (await import('../store/postgres/engine-store')).openPostgresEngineStore(options.store, { secrets, dataDir: options.dataDir, log })
    : undefined
  if (options.store) log(`store: ${redactUrl(options.store)} (shared PostgreSQL)`)
  const app = await startTidewatch({
    dataDir: options.dataDir,
    secrets,
    transport: 'websocket',
    rpcUrl: options.rpc,
    rpcHttpUrl: options.http,
    confirmations: options.confirmations,
    demo: options.rpc || store ? 'never' : 'always',
    ...(store ? { store } : {}),
    log,
  })
  const streamDeps = primaryStreamDeps(app, log)
  const server = await startHttpServer({
    host: options.host,
    port: options.port,
    token,
    rendererRoot,
    downloads: { path: EXPORTS_PATH, dir: exportsDir(options.dataDir) },
    routes: [
      uiRoute((socket) => serveUiSocket(socket, app.api, { log })),
      streamRoute(streamDeps),
      rpcRoute({ pool: streamDeps.pool, watches: streamDeps.watches, log }),
    ],
  })
  traceStart('serve: HTTP server listening')
  app.setLocalApi(headlessLocalApi(options.dataDir, () => server.url, server.port))
  let stopping = false
  const shutdown = (signal: string): void => {
    if (stopping) return
    stopping = true
    log(`${signal}: shutting down`)
    void server
      .close()
      .then(() => app.close())
      .then(() => {
        log('store flushed and closed')
        process.exit(0)
      })
      .catch((error: unknown) => {
        log(`shutdown failed: ${error instanceof Error ? error.message : String(error)}`)
        process.exit(1)
      })
  }
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.stdout.write(`Tidewatch listening on ${server.url}\n`)
  const warning = plainHttpWarning(options.host)
  if (warning) log(warning)
  // The fragment never reaches a server or its logs; the page moves it to sessionStorage.
  process.stdout.write(`Open the user interface: ${server.url}#token=${token}\n`)
}

/** sysexits.h EX_CANTCREAT: the data directory or the store cannot be written. */
const EXIT_CANNOT_WRITE = 73

serve(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`tidewatch serve: ${error instanceof Error ? error.message : String(error)}\n`)
  const cannotWrite = error instanceof DataDirError || (error instanceof StoreOpenError && error.problem === 'read_only')
  process.exit(cannotWrite ? EXIT_CANNOT_WRITE : 1)
})
