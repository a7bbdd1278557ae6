/** Formatting helpers; amounts arrive as decimal strings and may exceed 2^53, so they go through BigInt. */
import { formatUnits } from 'viem'
import type { ChainInfo, TokenMetadata } from '@shared/contract'

const integerFormat = new Intl.NumberFormat('en-US')
const compactFormat = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 })

export const DASH = '—'

export function toBigInt(value: string | null | undefined): bigint | null {
  if (value === null || value === undefined) return null
  try {
    return BigInt(value.trim())
  } catch {
    return null
  }
}

/** 1234567 -> "1,234,567"; an unparseable value is shown as it came. */
export function formatInteger(value: string | number | bigint): string {
  if (typeof value === 'string') {
    const big = toBigInt(value)
    return big === null ? value : integerFormat.format(big)
  }
  return integerFormat.format(value)
}

/** 15300000 -> "15.3M", for chart axes. */
export function formatCompact(value: number): string {
  return compactFormat.format(value)
}

/** Share of the gas limit used, "45.3%"; '—' when the limit is zero or unreadable. */
export function formatGasPercent(gasUsed: string, gasLimit: string): string {
  const used = toBigInt(gasUsed)
  const limit = toBigInt(gasLimit)
  if (used === null || limit === null || limit <= 0n) return DASH
  const tenths = (used * 1000n + limit / 2n) / limit
  return `${tenths / 10n}.${tenths % 10n}%`
}

/** Wei (decimal string) to gwei with two decimals: "12.34"; "<0.01" for a non-zero dust amount. */
export function formatGwei(wei: string | null): string {
  if (wei === null) return DASH
  const value = toBigInt(wei)
  if (value === null) return wei
  const rounded = roundTo(value, 9, 2)
  if (rounded === '0' && value > 0n) return '<0.01'
  const [whole = '0', fraction = ''] = rounded.split('.')
  return `${integerFormat.format(BigInt(whole))}.${fraction.padEnd(2, '0')}`
}

/**
 * An integer amount of `decimals`-unit tokens as people read it: two decimals from 1
 * up, six below, grouped ("1,234.57", "0.000123"), "<0.000001" for dust. Rounded half
 * up on the exact value (viem's formatUnits), so it never drifts through a float.
 */
export function readableUnits(value: bigint, decimals: number, wholeDigits = 2): string {
  const negative = value < 0n
  const magnitude = negative ? -value : value
  const one = 10n ** BigInt(decimals)
  const digits = magnitude >= one ? wholeDigits : 6
  const rounded = roundTo(magnitude, decimals, digits)
  if (rounded === '0' && magnitude > 0n) return `${negative ? '>-' : '<'}0.${'0'.repeat(digits - 1)}1`
  const [whole = '0', fraction] = rounded.split('.')
  return `${negative && rounded !== '0' ? '-' : ''}${integerFormat.format(BigInt(whole))}${fraction ? `.${fraction}` : ''}`
}

function roundTo(value: bigint, decimals: number, digits: number): string {
  if (decimals <= digits) return formatUnits(value, decimals)
  const step = 10n ** BigInt(decimals - digits)
  return formatUnits((value + step / 2n) / step, digits)
}

/** Wei as the chain's native currency: "1.5 ETH", "0.25 POL"; null when the value is not a number. */
export function formatNativeAmount(wei: unknown, symbol = 'ETH'): string | null {
  const value = typeof wei === 'string' ? toBigInt(wei) : typeof wei === 'bigint' ? wei : null
  return value === null ? null : `${readableUnits(value, 18)} ${symbol}`
}

/**
 * An ERC-20 amount with the token's decimals and symbol: "349.09 TWD"; without a symbol,
 * the number alone; null when the decimals are unknown (the raw value is shown instead).
 */
export function formatTokenAmount(raw: string, token: Pick<TokenMetadata, 'symbol' | 'decimals'> | null | undefined): string | null {
  const value = toBigInt(raw)
  if (value === null || !token || token.decimals === null) return null
  const amount = readableUnits(value, token.decimals)
  return token.symbol ? `${amount} ${token.symbol}` : amount
}

/** "Ethereum", "Chain 12345 (unknown)"; null until the chain is known. */
export function chainName(chain: Pick<ChainInfo, 'chainId' | 'name'> | null | undefined): string | null {
  if (!chain) return null
  return chain.name ?? `Chain ${chain.chainId} (unknown)`
}

const CONFIRMATION_SOURCES: Record<ChainInfo['confirmationsSource'], string> = {
  chain: 'chain default',
  generic: 'generic default',
  connection: 'set for this connection',
  'command-line': 'set by --confirmations',
}

/** "65 confirmations, chain default". */
export function confirmationsText(chain: Pick<ChainInfo, 'confirmations' | 'confirmationsSource'>): string {
  return `${countLabel(chain.confirmations, 'confirmation')}, ${CONFIRMATION_SOURCES[chain.confirmationsSource]}`
}

/** "Ethereum: 65 confirmations, chain default"; "Chain 12345 (unknown): 64 confirmations, generic default". */
export function finalityText(chain: ChainInfo): string {
  return `${chainName(chain)}: ${confirmationsText(chain)}`
}

/** 0x1234…abcd */
export function shortHash(hash: string): string {
  return hash.length > 14 ? `${hash.slice(0, 6)}…${hash.slice(-4)}` : hash
}

/** "3 s ago", "5 min ago", "2 h ago", "4 d ago"; future times (clock skew) count as now. */
export function formatRelative(timestampMs: number, nowMs: number): string {
  const seconds = Math.max(0, Math.floor((nowMs - timestampMs) / 1000))
  if (seconds < 60) return `${seconds} s ago`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes} min ago`
  const hours = Math.floor(minutes / 60)
  if (hours < 48) return `${hours} h ago`
  return `${Math.floor(hours / 24)} d ago`
}

export function formatLocalTime(timestampMs: number): string {
  return new Date(timestampMs).toLocaleTimeString(undefined, { hour12: false })
}

export function formatLocalDateTime(timestampMs: number): string {
  return new Date(timestampMs).toLocaleString(undefined, { hour12: false })
}

/** A block-time delta in whole seconds: "12 s". */
export function formatSeconds(seconds: number): string {
  return `${integerFormat.format(seconds)} s`
}

/** 1 -> "1 socket", 1001 -> "1,001 sockets". */
export function countLabel(count: number, singular: string, plural = `${singular}s`): string {
  return `${integerFormat.format(count)} ${count === 1 ? singular : plural}`
}

/** 1234.5 -> "1,235 blocks/s", 2.34 -> "2.3 blocks/s". */
export function formatRate(perSecond: number, unit = 'blocks/s'): string {
  const rounded = perSecond >= 10 ? Math.round(perSecond) : Math.round(perSecond * 10) / 10
  return `${integerFormat.format(rounded)} ${unit}`
}

/** Seconds remaining as "about 40 s left", "about 3 min left", "about 2 h 5 min left"; "almost done" under a second. */
export function formatTimeLeft(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return ''
  if (seconds < 1) return 'almost done'
  if (seconds < 60) return `about ${Math.ceil(seconds)} s left`
  const minutes = Math.round(seconds / 60)
  if (minutes < 60) return `about ${minutes} min left`
  const hours = Math.floor(minutes / 60)
  const rest = minutes % 60
  if (hours >= 48) return `about ${Math.round(hours / 24)} d left`
  return rest === 0 ? `about ${hours} h left` : `about ${hours} h ${rest} min left`
}
