import { useCallback, useEffect, useRef, useState } from 'react'
import type { CommandResult, ConnectionStatus, ConnectionWithStatus } from '@shared/contract'
import { useClient } from './useClient'

export interface ConnectionsState {
  rows: ConnectionWithStatus[]
  /** True once connections.list has answered at least once (successfully or not). */
  loaded: boolean
  /** The last failure of connections.list, cleared by the next success. */
  error: string | null
  /** An empty name or HTTP URL is left out of the request. */
  add(name: string, url: string, httpUrl?: string): Promise<CommandResult<'connections.add'>>
  remove(id: number): Promise<CommandResult<'connections.remove'>>
  /** The connection's own confirmation count; null: the chain's default. */
  update(id: number, confirmations: number | null): Promise<CommandResult<'connections.update'>>
}

function upsert(rows: ConnectionWithStatus[], row: ConnectionWithStatus): ConnectionWithStatus[] {
  const index = rows.findIndex((existing) => existing.id === row.id)
  if (index < 0) return [...rows, row]
  const next = rows.slice()
  next[index] = row
  return next
}

/** The connection list from connections.list, with connections.status events merged into each row. */
export function useConnections(): ConnectionsState {
  const client = useClient()
  const [rows, setRows] = useState<ConnectionWithStatus[]>([])
  const [loaded, setLoaded] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const rowsRef = useRef<ConnectionWithStatus[]>([])
  /** Statuses pushed since the last list request was sent: newer than what that list will carry. */
  const freshStatuses = useRef(new Map<number, ConnectionStatus>())
  const removedIds = useRef(new Set<number>())

  const commit = useCallback((next: ConnectionWithStatus[]) => {
    rowsRef.current = next
    setRows(next)
  }, [])

  useEffect(() => {
    let disposed = false
    let listing = false
    let listAgain = false

    const load = async (): Promise<void> => {
      if (listing) {
        listAgain = true
        return
      }
      listing = true
      freshStatuses.current.clear()
      const result = await client.call('connections.list', {})
      listing = false
      if (disposed) return
      if (result.ok) {
        commit(
          result.value.map((row) => {
            const status = freshStatuses.current.get(row.id)
            return status ? { ...row, status } : row
          }),
        )
        setError(null)
      } else {
        setError(result.error.message)
      }
      setLoaded(true)
      if (listAgain) {
        listAgain = false
        void load()
      }
    }

    void load()
    const offStatus = client.on('connections.status', (status) => {
      if (removedIds.current.has(status.connectionId)) return
      freshStatuses.current.set(status.connectionId, status)
      const current = rowsRef.current
      const index = current.findIndex((row) => row.id === status.connectionId)
      if (index < 0) {
        // A connection this view has not listed yet (added elsewhere): fetch the list again.
        void load()
        return
      }
      const next = current.slice()
      next[index] = { ...current[index]!, status }
      commit(next)
    })
    // Another Tidewatch sharing the store added or removed connections.
    const offChanged = client.on('connections.changed', () => void load())
    const offReconnect = client.onReconnect(() => void load())
    return () => {
      disposed = true
      offStatus()
      offChanged()
      offReconnect()
    }
  }, [client, commit])

  const add = useCallback(
    async (name: string, url: string, httpUrl?: string) => {
      const trimmedName = name.trim()
      const trimmedHttpUrl = httpUrl?.trim() ?? ''
      const result = await client.call('connections.add', {
        ...(trimmedName ? { name: trimmedName } : {}),
        url,
        ...(trimmedHttpUrl ? { httpUrl: trimmedHttpUrl } : {}),
      })
      if (result.ok) {
        const created = result.value
        const known = rowsRef.current.find((row) => row.id === created.id)
        const status = freshStatuses.current.get(created.id)
        // Status events may have overtaken the answer; keep the newer status.
        commit(upsert(rowsRef.current, { ...created, status: status ?? known?.status ?? created.status }))
      }
      return result
    },
    [client, commit],
  )

  const remove = useCallback(
    async (id: number) => {
      const result = await client.call('connections.remove', { id })
      if (result.ok) {
        // removed:false means it was already gone; either way it no longer belongs in the list.
        removedIds.current.add(id)
        freshStatuses.current.delete(id)
        commit(rowsRef.current.filter((row) => row.id !== id))
      }
      return result
    },
    [client, commit],
  )

  const update = useCallback(
    async (id: number, confirmations: number | null) => {
      const result = await client.call('connections.update', { id, confirmations })
      // The answer's status already carries the new count; a live connection also pushes it.
      if (result.ok) commit(upsert(rowsRef.current, result.value))
      return result
    },
    [client, commit],
  )

  return { rows, loaded, error, add, remove, update }
}
