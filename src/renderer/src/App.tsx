import { useCallback, useEffect, useState } from 'react'
import type { ConnectionWithStatus } from '@shared/contract'
import { ConnectionsPanel } from './features/connections/ConnectionsPanel'
import { DemoNote } from './features/connections/DemoNote'
import { DetailTabs, tabId, tabPanelId, type DetailTab } from './ui/DetailTabs'
import { ExportDialog, type ExportActivity } from './features/export/ExportDialog'
import { Header } from './ui/Header'
import { HeadsChart } from './features/blocks/HeadsChart'
import { HeadsTable } from './features/blocks/HeadsTable'
import { LiveLogView } from './features/live-log/LiveLogView'
import { NotificationToasts } from './features/notifications/NotificationToasts'
import { SettingsPanel } from './features/settings/SettingsPanel'
import { StorageBanner } from './ui/StorageBanner'
import { useStorageStatus } from './hooks/useStorageStatus'
import { ShortcutsHelp } from './features/shortcuts/ShortcutsHelp'
import { SubscriptionsTab } from './features/subscriptions/SubscriptionsTab'
import { SyncingPanel } from './features/node/SyncingPanel'
import { TransportBanner } from './ui/TransportBanner'
import { WatchlistPanel } from './features/watchlist/WatchlistPanel'
import { chainName, finalityText } from './ui/format'
import { useAppInfo } from './hooks/useAppInfo'
import { ChainsProvider, usePublishChains } from './features/live-log/useChains'
import { useConnections } from './hooks/useConnections'
import { usePreferences } from './hooks/usePreferences'
import { NotificationsProvider } from './features/notifications/useNotifications'
import { useShortcuts } from './features/shortcuts/useShortcuts'
import { useTransportStatus } from './hooks/useTransportStatus'
import { TokenMetadataProvider } from './features/live-log/useTokenMetadata'
import { WatchlistProvider } from './hooks/useWatchlist'

/** The explicit choice if it still exists, else the first connected row, else the first row. */
function pickSelection(rows: readonly ConnectionWithStatus[], chosenId: number | null): ConnectionWithStatus | null {
  return rows.find((row) => row.id === chosenId) ?? rows.find((row) => row.status.state === 'connected') ?? rows[0] ?? null
}

/** What the heading says before the connection's name, per tab; null: the tab is not about one connection. */
const HEADING: Record<DetailTab, string | null> = {
  blocks: 'Blocks from',
  'live-log': 'Live log of',
  subscriptions: 'Subscriptions on',
  watchlist: null,
  node: 'Node status of',
}

type Dialog = 'export' | 'settings' | 'shortcuts'

/** The first field of "a new filter": the subscription type, or the connection URL while there is none. */
const NEW_FILTER_TARGETS = ['[data-testid="subscription-type"]', '[data-testid="connection-url-input"]']

export function App() {
  return (
    <WatchlistProvider>
      <NotificationsProvider>
        <TokenMetadataProvider>
          <ChainsProvider>
            <AppShell />
          </ChainsProvider>
        </TokenMetadataProvider>
      </NotificationsProvider>
    </WatchlistProvider>
  )
}

function AppShell() {
  const status = useTransportStatus()
  const storage = useStorageStatus()
  const info = useAppInfo()
  const connections = useConnections()
  usePublishChains(connections.rows)
  const { preferences, set: setPreferences } = usePreferences()
  const showDemoNote = preferences?.demoNoteDismissed === false && connections.rows.some((row) => row.kind === 'demo')
  const [chosenId, setChosenId] = useState<number | null>(null)
  const [tab, setTab] = useState<DetailTab>('blocks')
  const [dialog, setDialog] = useState<Dialog | null>(null)
  const [exportActivity, setExportActivity] = useState<ExportActivity | null>(null)
  const [focusRequest, setFocusRequest] = useState(0)
  const selected = pickSelection(connections.rows, chosenId)
  const selectedId = selected?.id ?? null

  // Once the default lands on a live connection, keep it even if another one connects later.
  useEffect(() => {
    if (selected && selected.id !== chosenId && selected.status.state === 'connected') setChosenId(selected.id)
  }, [selected, chosenId])

  useEffect(() => {
    if (connections.loaded) document.body.dataset.appReady = 'true'
  }, [connections.loaded])

  const closeDialog = useCallback(() => setDialog(null), [])

  useShortcuts(
    {
      n: () => {
        setTab('subscriptions')
        setFocusRequest((count) => count + 1)
      },
      '?': () => setDialog('shortcuts'),
    },
    dialog === null,
  )

  // "n": focus the type select once the Subscriptions tab has rendered.
  useEffect(() => {
    if (focusRequest === 0) return
    const frame = requestAnimationFrame(() => {
      for (const selector of NEW_FILTER_TARGETS) {
        const target = document.querySelector<HTMLElement>(selector)
        if (target) {
          target.focus()
          target.scrollIntoView({ block: 'nearest' })
          return
        }
      }
    })
    return () => cancelAnimationFrame(frame)
  }, [focusRequest])

  const heading = HEADING[tab]

  return (
    <div className="app">
      <Header
        status={status}
        info={info}
        onExport={selectedId === null ? undefined : () => setDialog('export')}
        exportActivity={exportActivity}
        onSettings={() => setDialog('settings')}
      />
      <TransportBanner status={status} />
      <StorageBanner status={storage} />
      {showDemoNote && <DemoNote onDismiss={() => setPreferences({ demoNoteDismissed: true })} />}
      <main className="app-main">
        <ConnectionsPanel connections={connections} selectedId={selectedId} onSelect={setChosenId} hideError={status.state === 'refused'} />
        <div className="heads-area">
          <div className="detail-top">
            <div className="heads-heading" data-testid="selected-connection">
              {heading === null ? (
                <span className="heads-heading-label">Labelled addresses, across every connection</span>
              ) : selected ? (
                <>
                  <span className="heads-heading-label">{heading}</span>
                  <span className="heads-heading-name" data-testid="selected-connection-name">
                    {selected.name}
                  </span>
                  {selected.status.chain && (
                    <span className="heads-heading-chain" data-testid="selected-connection-chain" title={finalityText(selected.status.chain)}>
                      {chainName(selected.status.chain)}
                    </span>
                  )}
                  <span className="heads-heading-url" title={selected.displayUrl}>
                    {selected.displayUrl}
                  </span>
                </>
              ) : (
                <span className="heads-heading-label">
                  {connections.loaded && connections.rows.length === 0
                    ? 'No connection yet: add a WebSocket endpoint on the left to start watching'
                    : 'No connection selected'}
                </span>
              )}
            </div>
            <DetailTabs value={tab} onChange={setTab} />
          </div>
          <div className={`tab-panel tab-panel-${tab}`} role="tabpanel" id={tabPanelId(tab)} aria-labelledby={tabId(tab)} data-testid={`tab-panel-${tab}`}>
            {tab === 'blocks' ? (
              <>
                <HeadsChart connectionId={selectedId} />
                <HeadsTable connectionId={selectedId} />
              </>
            ) : tab === 'live-log' ? (
              <LiveLogView connectionId={selectedId} />
            ) : tab === 'subscriptions' ? (
              <SubscriptionsTab key={selectedId ?? 'none'} connectionId={selectedId} />
            ) : tab === 'watchlist' ? (
              <WatchlistPanel />
            ) : (
              <SyncingPanel connectionId={selectedId} />
            )}
          </div>
        </div>
      </main>
      <ExportDialog
        open={dialog === 'export'}
        connectionId={selectedId}
        connectionName={selected?.name ?? null}
        onClose={closeDialog}
        onActivity={setExportActivity}
      />
      {dialog === 'settings' && <SettingsPanel info={info} onClose={closeDialog} onShowShortcuts={() => setDialog('shortcuts')} />}
      {dialog === 'shortcuts' && <ShortcutsHelp onClose={closeDialog} />}
      <NotificationToasts />
    </div>
  )
}
