/**
 * The `cursor` of a `progress` message (PROTOCOL.md section 1, rule 4): opaque to clients,
 * it names one block by chain id, number and hash, so a resume can tell whether that block
 * is still canonical and, if not, what to take back.
 */
export interface CursorPosition {
  chainId: number
  number: number
  /** Lowercase 0x-prefixed 32-byte hash. */
  hash: string
}

const VERSION = 'tw1'
const HASH = /^0x[0-9a-f]{64}$/

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(`${VERSION}:${position.chainId}:${position.number}:${position.hash.toLowerCase()}`, 'utf8').toString('base64url')
}

/** The position a cursor names, or null when it is not one of Tidewatch's cursors. */
export function decodeCursor(cursor: string): CursorPosition | null {
  if (cursor.length === 0 || cursor.length > 200 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return null
  const parts = Buffer.from(cursor, 'base64url').toString('utf8').split(':')
  if (parts.length !== 4 || parts[0] !== VERSION) return null
  const [, chain, number, hash] = parts as [string, string, string, string]
  if (!/^[0-9]{1,16}$/.test(chain) || !/^[0-9]{1,16}$/.test(number) || !HASH.test(hash)) return null
  const position = { chainId: Number(chain), number: Number(number), hash }
  return Number.isSafeInteger(position.chainId) && Number.isSafeInteger(position.number) ? position : null
}
