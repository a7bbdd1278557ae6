/**
 * Reads what a person pastes as an ABI: a JSON ABI (array, or an object with an `abi`
 * field as Hardhat/Foundry artifacts have), or event signatures one per line, with or
 * without the `event` keyword and parameter names.
 */
import { parseAbi, type Abi, type AbiEvent } from 'viem'

export class AbiInputError extends Error {}

export function parseAbiInput(text: string): AbiEvent[] {
  const trimmed = text.trim()
  let abi: Abi
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let json: unknown
    try {
      json = JSON.parse(trimmed)
    } catch (error) {
      throw new AbiInputError(`Not valid JSON: ${error instanceof Error ? error.message : String(error)}`)
    }
    const candidate = Array.isArray(json) ? json : (json as { abi?: unknown }).abi
    if (!Array.isArray(candidate)) throw new AbiInputError('A JSON ABI is an array of entries (or an artifact with an "abi" array)')
    abi = candidate as Abi
  } else {
    const lines = trimmed
      .split(/\n|;/)
      .map((line) => line.trim())
      .filter(Boolean)
      .map((line) => (line.startsWith('event ') ? line : `event ${line}`))
    try {
      abi = parseAbi(lines)
    } catch (error) {
      throw new AbiInputError(`Cannot read that signature: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`)
    }
  }
  const events = abi.filter((item): item is AbiEvent => item.type === 'event')
  if (events.length === 0) throw new AbiInputError('That ABI has no events')
  return events
}

/** "Transfer(address,address,uint256)" */
export function eventSignature(event: AbiEvent): string {
  return `${event.name}(${event.inputs.map((input) => input.type).join(',')})`
}

/** "event Transfer(address indexed from, address indexed to, uint256 value)": what parseAbiItem reads back. */
export function humanReadableEvent(event: AbiEvent): string {
  const params = event.inputs.map((input) => [input.type, input.indexed ? 'indexed' : '', input.name ?? ''].filter(Boolean).join(' '))
  return `event ${event.name}(${params.join(', ')})`
}
