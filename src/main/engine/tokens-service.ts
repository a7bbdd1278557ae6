/** Token symbols and decimals for a connection: cached in the store, read from the chain over the connection's pool. */
import type { TokenMetadata } from '../../shared/contract'
import type { EngineStore } from '../store/engine-store'
import { TokenLookup } from '../tokens/token-lookup'
import type { ConnectionsService } from './connections-service'

export class TokensService {
  private readonly lookups: TokenLookup

  constructor(
    store: Pick<EngineStore, 'tokens' | 'writeGate'>,
    private readonly connections: Pick<ConnectionsService, 'get' | 'liveConnection'>,
    resolved: (tokens: TokenMetadata[]) => void,
    log: (message: string) => void,
  ) {
    this.lookups = new TokenLookup({
      store: {
        get: (connectionId, address) => store.tokens.get(connectionId, address),
        put: (token) => store.writeGate(() => store.tokens.put(token)),
      },
      requester: (connectionId) => {
        const live = connections.liveConnection(connectionId)
        return live ? (method, params) => live.pool.request(method, params, 15_000) : null
      },
      onResolved: resolved,
      log,
    })
  }

  /** Symbols and decimals of the tokens already known; the rest are read in the background and announced through `resolved`. */
  lookup(connectionId: number, addresses: readonly string[]): TokenMetadata[] {
    this.connections.get(connectionId)
    return this.lookups.lookup(connectionId, addresses)
  }

  /** The connection's pool is ready: reads that waited for it go ahead. */
  resume(connectionId: number): void {
    this.lookups.resume(connectionId)
  }

  /** The connection's chain was forgotten: so is what was read from it. */
  forget(connectionId: number): void {
    this.lookups.forget(connectionId)
  }

  stop(): void {
    this.lookups.stop()
  }
}
