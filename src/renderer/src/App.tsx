import { useEffect, useState } from 'react'
import type { ConnectionWithStatus } from '@shared/contract'
import { ConnectionsPanel } from './components/ConnectionsPanel'
import { DetailTabs, tabId, tabPanelId, type DetailTab } from './components/DetailTabs'
import { Header } from './components/Header'
import { HeadsChart } from './components/HeadsChart'
import { HeadsTable } from './components/HeadsTable'
import { SubscriptionsTab } from './components/SubscriptionsTab'
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
  const [tab, setTab] = useState<DetailTab>('blocks')
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
          <div className="detail-top">
            <div className="heads-heading" data-testid="selected-connection">
              {selected ? (
                <>
                  <span className="heads-heading-label">
                    {tab === 'blocks' ? 'Blocks from' : 'Subscriptions on'}
                  </span>
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
            <DetailTabs value={tab} onChange={setTab} />
          </div>
          <div
            className={`tab-panel tab-panel-${tab}`}
            role="tabpanel"
            id={tabPanelId(tab)}
            aria-labelledby={tabId(tab)}
            data-testid={`tab-panel-${tab}`}
          >
            {tab === 'blocks' ? (
              <>
                <HeadsChart connectionId={selectedId} />
                <HeadsTable connectionId={selectedId} />
              </>
            ) : (
              <SubscriptionsTab key={selectedId ?? 'none'} connectionId={selectedId} />
            )}
          </div>
        </div>
      </main>
    </div>
  )
}
