/**
 * Decodes logs with every event it knows: the built-in catalogue and the person's ABIs.
 * Candidates are looked up by topic0 and tried in order, because ERC-20 and ERC-721
 * Transfer share a selector and differ only in what is indexed.
 *
 * Each candidate is prepared once (prepared-event.ts): events made of static words decode
 * by slicing the log's hex, without viem; the rest, and any log that is not the plain case,
 * go through viem's decodeEventLog, with the same result.
 */
import { decodeEventLog, parseAbiItem, toEventSelector, type AbiEvent, type Hex } from 'viem'
import type { DecodedEvent } from '../../shared/contract'
import { BUILT_IN_EVENTS } from '../../shared/event-catalog'
import { eventSignature } from './abi-input'
import { FALLBACK, NO_MATCH, prepareEvent, type PreparedEvent } from './prepared-event'

interface Candidate {
  event: AbiEvent
  source: string
  signature: string
  prepared: PreparedEvent | null
  /** `{"event":…,"signature":…,"source":…`: the decoded object's JSON up to its arguments. */
  head: string
}

/** A decoded log as JSON text, for exports: what `decode` gives, without building it. */
export interface DecodedJson {
  event: string
  /** `{"event":…,"signature":…,"source":…`: the decoded object's JSON up to its arguments. */
  head: string
  /** The arguments' JSON, quotes as asked; undefined where viem gives none (an event without inputs). */
  args: string | undefined
}

export class EventDecoder {
  private readonly bySelector = new Map<string, Candidate[]>()

  constructor(userAbis: { name: string; events: AbiEvent[] }[] = []) {
    // User ABIs first: a person's own ABI names arguments better than the generic one.
    for (const abi of userAbis) for (const event of abi.events) this.add(event, abi.name)
    for (const builtIn of BUILT_IN_EVENTS) this.add(parseAbiItem(builtIn.signature) as AbiEvent, builtIn.label)
  }

  /** Selectors of events with this name, for the event-name filter. */
  selectorsNamed(name: string): string[] {
    const wanted = name.trim().toLowerCase()
    return [...this.bySelector.entries()].filter(([, list]) => list.some((c) => c.event.name.toLowerCase() === wanted)).map(([selector]) => selector)
  }

  decode(topics: string[], data: string | null): DecodedEvent | null {
    const selector = topics[0]
    if (!selector) return null
    const candidates = this.bySelector.get(selector)
    if (!candidates) return null
    for (const candidate of candidates) {
      const fast = candidate.prepared ? candidate.prepared.decode(topics, data) : FALLBACK
      if (fast === NO_MATCH) continue
      if (fast !== FALLBACK) return { event: candidate.event.name, signature: candidate.signature, source: candidate.source, args: fast }
      const args = viemArgs(candidate.event, topics, data)
      if (args !== NO_MATCH) return { event: candidate.event.name, signature: candidate.signature, source: candidate.source, args }
    }
    return null
  }

  /**
   * `decode`'s answer as JSON text, every quote of the arguments written as `q` (a CSV cell
   * doubles them): prepared events write it straight from the log's hex.
   */
  decodeJson(topics: string[], data: string | null, q = '"'): DecodedJson | null {
    const selector = topics[0]
    if (!selector) return null
    const candidates = this.bySelector.get(selector)
    if (!candidates) return null
    for (const candidate of candidates) {
      const fast = candidate.prepared ? candidate.prepared.json(topics, data, q) : FALLBACK
      if (fast === NO_MATCH) continue
      if (fast !== FALLBACK) return { event: candidate.event.name, head: candidate.head, args: fast }
      const args = viemArgs(candidate.event, topics, data)
      if (args !== NO_MATCH) {
        const json = JSON.stringify(args) as string | undefined
        return { event: candidate.event.name, head: candidate.head, args: json === undefined || q === '"' ? json : json.replace(/"/g, q) }
      }
    }
    return null
  }

  private add(event: AbiEvent, source: string): void {
    const selector = toEventSelector(event).toLowerCase()
    const list = this.bySelector.get(selector) ?? []
    const signature = eventSignature(event)
    if (!list.some((c) => c.signature === signature && indexing(c.event) === indexing(event)))
      list.push({
        event,
        source,
        signature,
        prepared: prepareEvent(event),
        head: `{"event":${JSON.stringify(event.name)},"signature":${JSON.stringify(signature)},"source":${JSON.stringify(source)}`,
      })
    this.bySelector.set(selector, list)
  }
}

/** The log's arguments as viem decodes them (bigints as decimal strings), or NO_MATCH when viem cannot decode it as this event. */
export function viemArgs(event: AbiEvent, topics: string[], data: string | null): Record<string, unknown> | typeof NO_MATCH {
  try {
    const decoded = decodeEventLog({ abi: [event], topics: topics as [Hex, ...Hex[]], data: (data ?? '0x') as Hex, strict: true })
    return plain(decoded.args) as Record<string, unknown>
  } catch {
    // Wrong candidate (indexing differs); the caller tries the next one.
    return NO_MATCH
  }
}

const indexing = (event: AbiEvent): string => event.inputs.map((i) => (i.indexed ? '1' : '0')).join('')

/** bigint -> decimal string, recursively, so the result crosses JSON. */
function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (Array.isArray(value)) return value.map(plain)
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]))
  return value
}
