/**
 * Starts what both the desktop app and headless mode run: the engine on a data directory,
 * the embedded demo chain when no endpoint is configured, and the transport-free API.
 */
import type { Api } from '../api/api'
import { createApi } from '../api/api'
import type { DemoChain } from '../demo/demo-chain'
import { startDemoChain } from '../demo/demo-chain'
import { addDemoStarter } from '../demo/demo-starter'
import { Engine } from '../engine/engine'
import type { EngineStoreFactory } from '../store/engine-store'
import type { SecretBox } from '../store/secret-box'
import type { LocalApiController } from '../api/local-api-controller'
import type { StoreChoiceController } from '../api/store-controller'
import { exportsFolderDestination, makeExportsPrivate } from '../export/exports-folder'
import { makePrivateDir } from '../private-files'
import type { ExportDestination } from '../export/export-service'
import { demoTokenArtifact, packageVersion } from './project-paths'
import { ensureWritableDataDir } from './data-dir'
import { traceStart } from '../start-trace'

export interface TidewatchOptions {
  dataDir: string
  secrets: SecretBox
  transport: 'electron' | 'websocket'
  /** Upstream given on the command line; saved as a connection if new. */
  rpcUrl?: string | undefined
  /** Optional HTTP URL for the --rpc endpoint's plain requests. */
  rpcHttpUrl?: string | undefined
  /** 'auto': only when no user endpoint is saved; 'always': serve without --rpc. */
  demo: 'auto' | 'always' | 'never'
  demoBlockTime?: number
  /** Finality depth where the upstream has no 'finalized' tag. */
  confirmations?: number | undefined
  nativeBinding?: string | undefined
  /** A shared store (PostgreSQL) instead of the data directory's SQLite file. */
  store?: EngineStoreFactory | undefined
  /** Desktop: the store chosen in Settings for the next start (store.get, store.set); headless mode has none, `--store` decides. */
  storeChoice?: StoreChoiceController | undefined
  /** Desktop: quits and starts the app again (app.restart). */
  restart?: (() => void) | undefined
  /** Desktop: a save dialog. Default: the data directory's exports folder, downloadable over HTTP. */
  exportDestination?: (suggestedName: string) => Promise<ExportDestination | null>
  log: (message: string) => void
}

export interface RunningTidewatch {
  engine: Engine
  api: Api
  demo: DemoChain | null
  /** The connection the local stream API serves: the --rpc endpoint, else the demo chain, else the first one. */
  primaryConnectionId(): number | null
  /** Installs how the local stream API runs (the desktop's opt-in server, or headless mode's own). */
  setLocalApi(controller: LocalApiController): void
  close(): Promise<void>
}

export const DEMO_CONNECTION_NAME = 'Demo chain (local anvil)'

export async function startTidewatch(options: TidewatchOptions): Promise<RunningTidewatch> {
  // Before the engine opens the store: a read-only directory gets one message naming it.
  ensureWritableDataDir(options.dataDir)
  // Before anything is written: the directory and what an earlier version left readable.
  makePrivateDir(options.dataDir)
  makeExportsPrivate(options.dataDir)
  const engine = new Engine({
    dataDir: options.dataDir,
    secrets: options.secrets,
    log: options.log,
    ...(options.confirmations !== undefined ? { confirmations: options.confirmations } : {}),
    ...(options.nativeBinding ? { nativeBinding: options.nativeBinding } : {}),
    ...(options.store ? { store: options.store } : {}),
  })
  traceStart('bootstrap: engine constructed')
  let demo: DemoChain | null = null
  try {
    const savedDemo = engine.connections.find((c) => c.kind === 'demo')
    const hasUserEndpoint = options.rpcUrl !== undefined || engine.connections.find((c) => c.kind === 'user') !== undefined
    const wantDemo = options.demo === 'always' || (options.demo === 'auto' && !hasUserEndpoint)
    if (wantDemo) {
      options.log('starting the embedded demo chain (anvil)')
      demo = await startDemoChain({
        blockTime: options.demoBlockTime ?? 2,
        artifactPath: demoTokenArtifact,
        onError: (e) => options.log(`demo traffic: ${e.message}`),
      })
      options.log(`demo chain at ${demo.wsUrl}, token ${demo.tokenAddress}`)
      let demoConnectionId: number
      if (savedDemo) {
        // Each run starts a fresh chain: the previous run's blocks belong to a chain that is gone.
        await engine.connections.retarget(savedDemo.id, demo.wsUrl, { freshChain: true })
        demoConnectionId = savedDemo.id
      } else {
        demoConnectionId = engine.connections.add({ name: DEMO_CONNECTION_NAME, url: demo.wsUrl, kind: 'demo' }).id
      }
      if (addDemoStarter(engine, engine.settings, { connectionId: demoConnectionId, tokenAddress: demo.tokenAddress, senderAddress: demo.accounts[0]! })) {
        options.log('demo chain: added a Transfer subscription for the demo token and the demo sender to the watchlist')
      }
    } else if (savedDemo && !options.store) {
      // Without its chain the demo endpoint would only retry a dead port (a shared store's connections are the capturers'; left alone).
      await engine.connections.remove(savedDemo.id)
    }
    if (options.rpcUrl) await engine.connections.ensure({ url: options.rpcUrl, httpUrl: options.rpcHttpUrl })
    engine.start()
    traceStart('bootstrap: engine started')
  } catch (error) {
    await engine.close()
    await demo?.stop()
    throw error
  }
  let localApi: LocalApiController | null = null
  const api = createApi(engine, { version: packageVersion(), transport: options.transport, dataDir: options.dataDir }, options.log, {
    localApi: () => localApi,
    exportDestination: options.exportDestination ?? exportsFolderDestination(options.dataDir),
    storeKind: options.store ? 'postgres' : 'sqlite',
    storeChoice: options.storeChoice,
    restart: options.restart,
  })
  return {
    engine,
    api,
    demo,
    primaryConnectionId: () =>
      (options.rpcUrl ? engine.connections.find((c) => c.url === options.rpcUrl)?.id : undefined) ??
      engine.connections.find((c) => c.kind === 'demo')?.id ??
      engine.connections.find(() => true)?.id ??
      null,
    setLocalApi(controller) {
      localApi = controller
    },
    async close() {
      await localApi?.close()
      await engine.close()
      await demo?.stop()
    },
  }
}
