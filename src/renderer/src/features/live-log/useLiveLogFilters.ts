/** The live log's filter bar: what is typed, and (300 ms after typing stops) what applies. */
import { useCallback, useEffect, useMemo, useState } from 'react'
import { EMPTY_FILTERS, TYPED_FILTER_FIELDS, isDraftEmpty, parseFilters, type LiveFilterDraft, type ParsedFilters } from './liveLogFilters'

export const FILTER_DEBOUNCE_MS = 300

export interface LiveLogFiltersState {
  draft: LiveFilterDraft
  /** Problems of what is typed now (shown at once, before the debounce). */
  issues: ParsedFilters['issues']
  /** What the list is filtered by. */
  applied: ParsedFilters
  set(field: keyof LiveFilterDraft, value: string): void
  clear(): void
  isEmpty: boolean
}

const typedPart = (draft: LiveFilterDraft): Pick<LiveFilterDraft, (typeof TYPED_FILTER_FIELDS)[number]> => ({
  address: draft.address,
  eventName: draft.eventName,
  fromBlock: draft.fromBlock,
  toBlock: draft.toBlock,
  text: draft.text,
})

export function useLiveLogFilters(): LiveLogFiltersState {
  const [draft, setDraft] = useState<LiveFilterDraft>(EMPTY_FILTERS)
  /** The typed fields as they were when typing last paused. */
  const [settled, setSettled] = useState(() => typedPart(EMPTY_FILTERS))

  useEffect(() => {
    const next = typedPart(draft)
    const timer = setTimeout(() => {
      setSettled((previous) => (TYPED_FILTER_FIELDS.every((field) => previous[field] === next[field]) ? previous : next))
    }, FILTER_DEBOUNCE_MS)
    return () => clearTimeout(timer)
  }, [draft])

  const set = useCallback((field: keyof LiveFilterDraft, value: string) => {
    setDraft((previous) => (previous[field] === value ? previous : { ...previous, [field]: value }))
  }, [])

  const clear = useCallback(() => {
    setDraft(EMPTY_FILTERS)
    setSettled(typedPart(EMPTY_FILTERS))
  }, [])

  const issues = useMemo(() => parseFilters(draft).issues, [draft])
  const applied = useMemo(
    () => parseFilters({ ...settled, subscriptionId: draft.subscriptionId, kind: draft.kind }),
    [settled, draft.subscriptionId, draft.kind],
  )

  return { draft, issues, applied, set, clear, isEmpty: isDraftEmpty(draft) }
}
