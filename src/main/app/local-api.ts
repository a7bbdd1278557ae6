/**
 * The local stream API of the desktop app: off until the person turns it on, then
 * /v1/stream and /v1/rpc on 127.0.0.1 with the same token file as headless mode. The
 * setting survives restarts. Headless mode serves the API on its own server and reports
 * it as always on.
 */
import path from 'node:path'
import { z } from 'zod'
import type { LocalApiController } from '../api/local-api-controller'
import type { LocalApiStatus } from '../../shared/contract'
import type { SettingsStoreApi } from '../store/engine-store'
import type { StreamDeps } from '../stream/stream-session'
import { streamRoute } from '../stream/stream-endpoint'
import { rpcRoute } from '../rpc-endpoint/rpc-endpoint'
import { API_TOKEN_FILE, loadOrCreateApiToken } from '../server/api-token'
import { startHttpServer, type RunningHttpServer } from '../server/http-server'

export const DEFAULT_LOCAL_API_PORT = 7458
const settingSchema = z.object({ enabled: z.boolean(), port: z.number().int().min(1).max(65535) })

export async function createDesktopLocalApi(options: {
  dataDir: string
  settings: SettingsStoreApi
  stream: StreamDeps
  rendererRoot: string
}): Promise<LocalApiController> {
  let setting = options.settings.get('localApi', settingSchema, { enabled: false, port: DEFAULT_LOCAL_API_PORT })
  let server: RunningHttpServer | null = null
  let error: string | null = null

  const status = (): LocalApiStatus => ({
    enabled: setting.enabled,
    mode: 'desktop',
    port: setting.port,
    url: server?.url ?? null,
    tokenFile: path.join(options.dataDir, API_TOKEN_FILE),
    error,
  })

  const apply = async (): Promise<void> => {
    await server?.close()
    server = null
    error = null
    if (!setting.enabled) return
    try {
      server = await startHttpServer({
        host: '127.0.0.1',
        port: setting.port,
        token: loadOrCreateApiToken(options.dataDir),
        rendererRoot: options.rendererRoot,
        routes: [streamRoute(options.stream), rpcRoute({ pool: options.stream.pool, watches: options.stream.watches, log: options.stream.log })],
      })
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code
      error =
        code === 'EADDRINUSE'
          ? `Port ${setting.port} is in use; pick another port`
          : `Cannot start the local API: ${cause instanceof Error ? cause.message : String(cause)}`
    }
  }

  await apply()
  return {
    get: status,
    async set(enabled, port) {
      setting = { enabled, port: port ?? setting.port }
      options.settings.set('localApi', setting)
      await apply()
      return status()
    },
    close: async () => {
      await server?.close()
      server = null
    },
  }
}

/** Headless mode: the API is the server's own and always on. */
export function headlessLocalApi(dataDir: string, url: () => string | null, port: number): LocalApiController {
  const status = (): LocalApiStatus => ({ enabled: true, mode: 'headless', port, url: url(), tokenFile: path.join(dataDir, API_TOKEN_FILE), error: null })
  return {
    get: status,
    set: async () => {
      throw new Error('In headless mode the stream API is part of `tidewatch serve` and is always on')
    },
    close: async () => undefined,
  }
}
