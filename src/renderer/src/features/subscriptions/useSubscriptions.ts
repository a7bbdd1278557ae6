import { useCallback, useEffect, useRef, useState } from 'react'
import type { CommandRequest, CommandResult, Subscription } from '@shared/contract'
import { createThrottledQuery } from '../../hooks/throttledQuery'
import { useClient } from '../../hooks/useClient'

/**
 * Event counts change with every batch of events; the list (possibly 1,000+ rows) is re-queried
 * at most this often, which is as often as the relative times on screen advance anyway.
 */
const REQUERY_INTERVAL_MS = 1000

export type CreateSubscriptionRequest = Omit<CommandRequest<'subscriptions.create'>, 'connectionId'>

export interface SubscriptionsState {
  /** Oldest first; empty until `loaded`. */
  rows: Subscription[]
  /** True once subscriptions.list has answered for this connection (successfully or not). */
  loaded: boolean
  /** The last failure of subscriptions.list, cleared by the next success. */
  error: string | null
  create(request: CreateSubscriptionRequest): Promise<CommandResult<'subscriptions.create'>>
  pause(id: number): Promise<CommandResult<'subscriptions.pause'>>
  resume(id: number): Promise<CommandResult<'subscriptions.resume'>>
  remove(id: number): Promise<CommandResult<'subscriptions.remove'>>
}

interface Loaded {
  connectionId: number | null
  rows: Subscription[]
  loaded: boolean
  error: string | null
}

function upsert(rows: readonly Subscription[], row: Subscription): Subscription[] {
  const index = rows.findIndex((existing) => existing.id === row.id)
  if (index < 0) return [...rows, row].sort((a, b) => a.id - b.id)
  const next = rows.slice()
  next[index] = row
  return next
}

/**
 * The subscriptions of one connection: subscriptions.list, with subscriptions.changed merged
 * in, and re-listed (throttled) when events arrive so counts and last-event times stay current.
 */
export function useSubscriptions(connectionId: number | null): SubscriptionsState {
  const client = useClient()
  const [state, setState] = useState<Loaded>({ connectionId: null, rows: [], loaded: false, error: null })
  /** Ids removed while this view was open: a late list answer or event must not bring them back. */
  const removedIds = useRef(new Set<number>())

  /** Applies a change to the rows of this connection only (a late answer for another one is dropped). */
  const update = useCallback(
    (change: (rows: Subscription[]) => Subscription[]) => {
      setState((previous) => (previous.connectionId === connectionId ? { ...previous, rows: change(previous.rows) } : previous))
    },
    [connectionId],
  )

  useEffect(() => {
    if (connectionId === null) return
    let disposed = false

    const query = createThrottledQuery(async () => {
      const result = await client.call('subscriptions.list', { connectionId })
      if (disposed) return
      if (result.ok) {
        const rows = result.value.filter((row) => row.connectionId === connectionId && !removedIds.current.has(row.id)).sort((a, b) => a.id - b.id)
        setState({ connectionId, rows, loaded: true, error: null })
      } else {
        setState((previous) => ({
          connectionId,
          rows: previous.connectionId === connectionId ? previous.rows : [],
          loaded: true,
          error: result.error.message,
        }))
      }
    }, REQUERY_INTERVAL_MS)

    query.schedule()
    const offChanged = client.on('subscriptions.changed', ({ subscription, removedId }) => {
      if (removedId !== null) {
        removedIds.current.add(removedId)
        update((rows) => rows.filter((row) => row.id !== removedId))
      }
      if (subscription && subscription.connectionId === connectionId && !removedIds.current.has(subscription.id)) {
        update((rows) => upsert(rows, subscription))
      }
    })
    const offAppended = client.on('events.appended', (event) => {
      if (event.connectionId === connectionId) query.schedule()
    })
    const offReconnect = client.onReconnect(query.schedule)
    return () => {
      disposed = true
      query.dispose()
      offChanged()
      offAppended()
      offReconnect()
    }
  }, [client, connectionId, update])

  const create = useCallback(
    async (request: CreateSubscriptionRequest) => {
      if (connectionId === null) {
        return { ok: false as const, error: { code: 'invalid_request' as const, message: 'Select a connection first' } }
      }
      const result = await client.call('subscriptions.create', { ...request, connectionId })
      if (result.ok && result.value.connectionId === connectionId) {
        const created = result.value
        update((rows) => upsert(rows, created))
      }
      return result
    },
    [client, connectionId, update],
  )

  const applyAnswer = useCallback(
    (result: CommandResult<'subscriptions.pause' | 'subscriptions.resume'>) => {
      if (result.ok && !removedIds.current.has(result.value.id)) {
        const changed = result.value
        update((rows) => upsert(rows, changed))
      }
      return result
    },
    [update],
  )

  const pause = useCallback(async (id: number) => applyAnswer(await client.call('subscriptions.pause', { id })), [client, applyAnswer])
  const resume = useCallback(async (id: number) => applyAnswer(await client.call('subscriptions.resume', { id })), [client, applyAnswer])

  const remove = useCallback(
    async (id: number) => {
      const result = await client.call('subscriptions.remove', { id })
      if (result.ok) {
        // removed:false means it was already gone; either way it no longer belongs in the list.
        removedIds.current.add(id)
        update((rows) => rows.filter((row) => row.id !== id))
      }
      return result
    },
    [client, update],
  )

  const current = state.connectionId === connectionId && connectionId !== null
  return {
    rows: current ? state.rows : [],
    loaded: connectionId === null || (current && state.loaded),
    error: current ? state.error : null,
    create,
    pause,
    resume,
    remove,
  }
}
