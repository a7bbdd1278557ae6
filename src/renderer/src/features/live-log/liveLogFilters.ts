/** The live log's filter bar as typed, and the events.list filters it amounts to. */
import { EVENT_KINDS, type EventKind } from '@shared/contract'
import type { LiveQuery } from './liveLogFeed'

/** Every field as the person typed it; empty means "any". */
export interface LiveFilterDraft {
  subscriptionId: string
  kind: string
  address: string
  eventName: string
  fromBlock: string
  toBlock: string
  text: string
}

export const EMPTY_FILTERS: LiveFilterDraft = {
  subscriptionId: '',
  kind: '',
  address: '',
  eventName: '',
  fromBlock: '',
  toBlock: '',
  text: '',
}

/** Fields typed key by key, applied after a pause in typing; the others apply at once. */
export const TYPED_FILTER_FIELDS = ['address', 'eventName', 'fromBlock', 'toBlock', 'text'] as const satisfies ReadonlyArray<keyof LiveFilterDraft>

export type LiveFilterIssues = Partial<Record<'address' | 'fromBlock' | 'toBlock', string>>

export type LiveFilters = Omit<LiveQuery, 'connectionId'>

export interface ParsedFilters {
  /** The filters that apply: fields with a problem are left out until fixed. */
  filters: LiveFilters
  issues: LiveFilterIssues
  /** How many filters apply. */
  active: number
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/
const BLOCK = /^\d+$/
/** The contract's limits on the free-text fields. */
export const EVENT_NAME_MAX = 100
export const TEXT_MAX = 200

function parseBlock(value: string): { block?: number; issue?: string } {
  const trimmed = value.trim().replaceAll(/[,_\s]/g, '')
  if (trimmed === '') return {}
  if (!BLOCK.test(trimmed) || !Number.isSafeInteger(Number(trimmed))) {
    return { issue: 'A block number: a whole number of 0 or more' }
  }
  return { block: Number(trimmed) }
}

const isEventKind = (value: string): value is EventKind => (EVENT_KINDS as readonly string[]).includes(value)

export function parseFilters(draft: LiveFilterDraft): ParsedFilters {
  const filters: LiveFilters = {}
  const issues: LiveFilterIssues = {}

  const subscriptionId = Number(draft.subscriptionId)
  if (draft.subscriptionId !== '' && Number.isSafeInteger(subscriptionId) && subscriptionId > 0) {
    filters.subscriptionId = subscriptionId
  }
  if (isEventKind(draft.kind)) filters.kind = draft.kind

  const address = draft.address.trim()
  if (address !== '') {
    if (ADDRESS.test(address)) filters.address = address.toLowerCase()
    else issues.address = 'Not an address: expected 0x followed by 40 hex digits'
  }

  const eventName = draft.eventName.trim().slice(0, EVENT_NAME_MAX)
  if (eventName !== '') filters.eventName = eventName

  const from = parseBlock(draft.fromBlock)
  const to = parseBlock(draft.toBlock)
  if (from.issue) issues.fromBlock = from.issue
  if (to.issue) issues.toBlock = to.issue
  if (from.block !== undefined && to.block !== undefined && from.block > to.block) {
    issues.toBlock = `The range ends before it starts: "to" must be ${from.block} or more`
  } else {
    if (from.block !== undefined) filters.fromBlock = from.block
    if (to.block !== undefined) filters.toBlock = to.block
  }

  const text = draft.text.trim().slice(0, TEXT_MAX)
  if (text !== '') filters.text = text

  return { filters, issues, active: Object.keys(filters).length }
}

export function isDraftEmpty(draft: LiveFilterDraft): boolean {
  return Object.values(draft).every((value) => value === '')
}

/** A stable key of the filters that apply, for reloading when they change. */
export function filtersKey(connectionId: number | null, filters: LiveFilters): string {
  const entries = Object.entries(filters).sort(([a], [b]) => a.localeCompare(b))
  return JSON.stringify([connectionId, entries])
}
