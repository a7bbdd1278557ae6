/**
 * EIP-55 address checksums for the export path: keccak-256 of the 40 lowercase hex digits
 * read straight from a word of log data or a topic, with a bounded cache because exports
 * repeat the same tokens, routers and holders.
 *
 * The hash is hash-wasm's WebAssembly keccak (about 1 µs an address on the bench machine,
 * against 12.6 µs for noble's JavaScript keccak, the one viem uses), loaded once when this
 * module is first imported; until it is ready (a few milliseconds) or if WebAssembly is
 * unavailable, noble's keccak answers. Both are checked against viem's getAddress.
 */
import { keccak_256 } from '@noble/hashes/sha3'
import { createKeccak, type IHasher } from 'hash-wasm'

let wasm: IHasher | null = null
/** Resolves when the WebAssembly keccak is loaded (or could not be: noble's stays in use). */
export const fastKeccakReady: Promise<void> = createKeccak(256).then(
  (hasher) => {
    wasm = hasher
  },
  () => undefined,
)

const input = Buffer.alloc(40)
const output = Buffer.alloc(42, '0x', 'latin1')
/**
 * Checksummed addresses by their lowercase digits, in a direct-mapped cache: an address's
 * slot is its last 14 bits, and a new address takes the slot over. A miss costs two array
 * stores, where a Map of 50,000 entries cost about 0.4 µs an address in hashing and growing
 * (an export of all-distinct addresses, the bench's, misses every time); addresses are
 * uniform in their digits, so the tokens and holders an export repeats keep their slots.
 */
const SLOTS = 1 << 14
const keys: (string | undefined)[] = new Array<string | undefined>(SLOTS).fill(undefined)
const values: string[] = new Array<string>(SLOTS).fill('')

function keccak(bytes: Uint8Array): Uint8Array {
  return wasm ? wasm.init().update(bytes).digest('binary') : keccak_256(bytes)
}

/** A hex digit's value (anything else gives some number: the caller checks the digits). */
const nibbleOf = (code: number): number => (code <= 57 ? code - 48 : (code | 32) - 87) & 15

/** The checksummed address whose 40 hex digits start at `start` in `hex`; null if they are not hex. */
export function checksumAddressAt(hex: string, start: number): string | null {
  const slot =
    ((nibbleOf(hex.charCodeAt(start + 36)) << 12) |
      (nibbleOf(hex.charCodeAt(start + 37)) << 8) |
      (nibbleOf(hex.charCodeAt(start + 38)) << 4) |
      nibbleOf(hex.charCodeAt(start + 39))) &
    (SLOTS - 1)
  const key = keys[slot]
  // Compared in place: a hit makes no substring.
  if (key !== undefined && hex.startsWith(key, start)) return values[slot]!
  for (let i = 0; i < 40; i++) {
    const code = hex.charCodeAt(start + i)
    if (!((code >= 48 && code <= 57) || (code >= 97 && code <= 102) || (code >= 65 && code <= 70))) return null
    // Lowercase: digits already have the 0x20 bit.
    input[i] = code | 32
  }
  const hash = keccak(input)
  for (let i = 0; i < 40; i++) {
    const digit = input[i]!
    const nibble = (hash[i >> 1]! >> (i & 1 ? 0 : 4)) & 0x0f
    // a-f become A-F where the hash's nibble is 8 or more.
    output[i + 2] = nibble >= 8 && digit >= 97 ? digit - 32 : digit
  }
  const out = output.toString('latin1')
  // A string of its own: a slice of `hex` would keep the whole log text alive in the cache.
  keys[slot] = input.toString('latin1')
  values[slot] = out
  return out
}
