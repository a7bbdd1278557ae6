import { useRef, type KeyboardEvent } from 'react'

export const DETAIL_TABS = ['blocks', 'live-log', 'subscriptions', 'watchlist', 'node'] as const
export type DetailTab = (typeof DETAIL_TABS)[number]

export const DETAIL_TAB_LABELS: Record<DetailTab, string> = {
  blocks: 'Blocks',
  'live-log': 'Live log',
  subscriptions: 'Subscriptions',
  watchlist: 'Watchlist',
  node: 'Node',
}

export const tabId = (tab: DetailTab): string => `detail-tab-${tab}`
export const tabPanelId = (tab: DetailTab): string => `detail-panel-${tab}`

/** The tab strip of the selected connection's views (arrow keys move between tabs). */
export function DetailTabs({ value, onChange }: { value: DetailTab; onChange(tab: DetailTab): void }) {
  const refs = useRef(new Map<DetailTab, HTMLButtonElement>())

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>): void => {
    const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0
    const index = DETAIL_TABS.indexOf(value)
    let next: DetailTab | undefined
    if (step !== 0) next = DETAIL_TABS[(index + step + DETAIL_TABS.length) % DETAIL_TABS.length]
    else if (event.key === 'Home') next = DETAIL_TABS[0]
    else if (event.key === 'End') next = DETAIL_TABS[DETAIL_TABS.length - 1]
    if (!next) return
    event.preventDefault()
    onChange(next)
    refs.current.get(next)?.focus()
  }

  return (
    <div className="tabs" role="tablist" aria-label="Connection views" onKeyDown={onKeyDown}>
      {DETAIL_TABS.map((tab) => {
        const selected = tab === value
        return (
          <button
            key={tab}
            ref={(element) => {
              if (element) refs.current.set(tab, element)
              else refs.current.delete(tab)
            }}
            type="button"
            role="tab"
            id={tabId(tab)}
            className={`tab${selected ? ' is-selected' : ''}`}
            aria-selected={selected}
            aria-controls={selected ? tabPanelId(tab) : undefined}
            tabIndex={selected ? 0 : -1}
            data-testid={`tab-${tab}`}
            onClick={() => onChange(tab)}
          >
            {DETAIL_TAB_LABELS[tab]}
          </button>
        )
      })}
    </div>
  )
}
