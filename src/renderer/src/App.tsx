import { useEffect, useState } from 'react'
import type { ConnectionWithStatus } from '@shared/contract'
import { ConnectionsPanel } from './components/ConnectionsPanel'
import { Header } from './components/Header'
import { HeadsChart } from './components/HeadsChart'
import { HeadsTable } from './components/HeadsTable'
import { TransportBanner } from './components/TransportBanner'
import { useAppInfo } from './hooks/useAppInfo'
import { useConnections } from './hooks/useConnections'
import { useTransportStatus } from './hooks/useTransportStatus'

/** The explicit choice if it still exists, else the first connected row, else the first row. */
function pickSelection(rows: readonly ConnectionWithStatus[], chosenId: number | null): ConnectionWithStatus | null {
  return (
    rows.find((row) => row.id === chosenId) ??
    rows.find((row) => row.status.state === 'connected') ??
    rows[0] ??
    null
  )
}

export function App() {
  const status = useTransportStatus()
  const info = useAppInfo()
  const connections = useConnections()
  const [chosenId, setChosenId] = useState<number | null>(null)
  const selected = pickSelection(connections.rows, chosenId)
  const selectedId = selected?.id ?? null

  // Once the default lands on a live connection, keep it even if another one connects later.
  useEffect(() => {
    if (selected && selected.id !== chosenId && selected.status.state === 'connected') setChosenId(selected.id)
  }, [selected, chosenId])

  useEffect(() => {
    if (connections.loaded) document.body.dataset.appReady = 'true'
  }, [connections.loaded])

  return (
    <div className="app">
      <Header status={status} info={info} />
      <TransportBanner status={status} />
      <main className="app-main">
        <ConnectionsPanel
          connections={connections}
          selectedId={selectedId}
          onSelect={setChosenId}
          hideError={status.state === 'refused'}
        />
        <div className="heads-area">
          <div className="heads-heading" data-testid="selected-connection">
            {selected ? (
              <>
                <span className="heads-heading-label">Blocks from</span>
                <span className="heads-heading-name" data-testid="selected-connection-name">
                  {selected.name}
                </span>
                <span className="heads-heading-url" title={selected.displayUrl}>
                  {selected.displayUrl}
                </span>
              </>
            ) : (
              <span className="heads-heading-label">No connection selected</span>
            )}
          </div>
          <HeadsChart connectionId={selectedId} />
          <HeadsTable connectionId={selectedId} />
        </div>
      </main>
    </div>
  )
}
