/**
 * Decodes logs with every event it knows: the built-in catalogue and the person's ABIs.
 * Candidates are looked up by topic0 and tried in order, because ERC-20 and ERC-721
 * Transfer share a selector and differ only in what is indexed.
 */
import { decodeEventLog, parseAbiItem, toEventSelector, type AbiEvent, type Hex } from 'viem'
import type { DecodedEvent } from '../../shared/contract'
import { BUILT_IN_EVENTS } from '../../shared/event-catalog'
import { eventSignature } from './abi-input'

interface Candidate {
  event: AbiEvent
  source: string
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
    for (const candidate of this.bySelector.get(selector) ?? []) {
      try {
        const decoded = decodeEventLog({ abi: [candidate.event], topics: topics as [Hex, ...Hex[]], data: (data ?? '0x') as Hex, strict: true })
        return {
          event: candidate.event.name,
          signature: eventSignature(candidate.event),
          source: candidate.source,
          args: plain(decoded.args) as Record<string, unknown>,
        }
      } catch {
        // Wrong candidate (indexing differs); try the next one.
      }
    }
    return null
  }

  private add(event: AbiEvent, source: string): void {
    const selector = toEventSelector(event).toLowerCase()
    const list = this.bySelector.get(selector) ?? []
    if (!list.some((c) => eventSignature(c.event) === eventSignature(event) && indexing(c.event) === indexing(event))) list.push({ event, source })
    this.bySelector.set(selector, list)
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
