/** Watches on whichever live connection the local stream API serves, looked up per call. */
import { createTrackerWatchProvider } from '../chain/tracker-watch'
import type { Engine } from '../engine/engine'
import type { ConnectionPool } from '../upstream/connection-pool'
import { NoUpstreamError } from '../upstream/rpc-errors'
import type { StreamDeps } from './stream-session'
import type { WatchProvider } from '../chain/watch-types'

export function primaryWatchProvider(engine: Engine, connectionId: () => number | null): WatchProvider {
  const current = (): WatchProvider => {
    const id = connectionId()
    const live = id === null ? undefined : engine.connections.liveConnection(id)
    if (!live) throw new NoUpstreamError('No upstream connection is running for the stream API; add or start a connection and try again')
    return createTrackerWatchProvider(live.chain, live.pool)
  }
  return {
    latestBlock: () => current().latestBlock(),
    chainId: () => current().chainId(),
    open: (request, send) => current().open(request, send),
  }
}

/** What /v1/stream needs from the app, on its primary connection (headless and desktop alike). */
export function primaryStreamDeps(app: { engine: Engine; primaryConnectionId: () => number | null }, log: (message: string) => void): StreamDeps {
  return {
    watches: primaryWatchProvider(app.engine, app.primaryConnectionId),
    pool: () => primaryPool(app),
    log,
    decodeLog: (topics, data) => app.engine.events.decodeLog(topics, data),
  }
}

/** The pool of the primary connection, for the stream types that are not watches. */
export function primaryPool(app: { engine: Engine; primaryConnectionId: () => number | null }): ConnectionPool | null {
  const id = app.primaryConnectionId()
  return id === null ? null : (app.engine.connections.liveConnection(id)?.pool ?? null)
}
