/** Command-line options of `tidewatch serve` (PROTOCOL.md section 3). */
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { redactUrl } from '../redact-url'
import { isLoopbackHost } from '../server/request-guard'

export interface ServeOptions {
  rpc?: string | undefined
  http?: string | undefined
  dataDir: string
  host: string
  port: number
  /** Overrides every chain's and connection's finality depth; undefined: per chain (mainnet 65, unknown chains 64…). */
  confirmations: number | undefined
  /** A shared PostgreSQL store (postgres://user@host/db) instead of the data directory's SQLite file. */
  store?: string | undefined
}

export class OptionsError extends Error {}

export const DEFAULT_PORT = 7457

export const USAGE = `Usage: tidewatch serve [--rpc <ws url>] [--http <http url>] [--data-dir <dir>] [--host <host>] [--port <port>] [--confirmations <n>] [--store <postgres url>]
  --rpc            upstream WebSocket URL (ws:// or wss://); without it, the embedded demo chain
  --http           optional upstream HTTP URL for plain requests
  --data-dir       store, API token and settings (default: ${defaultDataDir()})
  --host           address to listen on (default: 127.0.0.1)
  --port           port to listen on (default: ${DEFAULT_PORT}; 0 picks a free one)
  --confirmations  finality depth where the upstream has no 'finalized' tag, for every connection
                   (default: per chain, e.g. 65 on Ethereum, 200 on Polygon, 64 on chains without a default)
  --store          a PostgreSQL store shared with other Tidewatch instances, postgres://user@host[:port]/database
                   (password from the URL, PGPASSWORD or ~/.pgpass); default: the data directory's SQLite file.
                   Instances sharing a store need the same secret.key in their data directories.`

export function defaultDataDir(): string {
  const base = process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share')
  return path.join(base, 'tidewatch')
}

export function parseServeOptions(argv: string[]): ServeOptions {
  let values
  try {
    ;({ values } = parseArgs({
      args: argv[0] === 'serve' ? argv.slice(1) : argv,
      strict: true,
      allowPositionals: false,
      options: {
        rpc: { type: 'string' },
        http: { type: 'string' },
        'data-dir': { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        confirmations: { type: 'string' },
        store: { type: 'string' },
      },
    }))
  } catch (error) {
    throw new OptionsError(error instanceof Error ? error.message : String(error))
  }
  const rpc = values.rpc === undefined ? undefined : checkUrl('--rpc', values.rpc, ['ws:', 'wss:'])
  const http = values.http === undefined ? undefined : checkUrl('--http', values.http, ['http:', 'https:'])
  const port = values.port === undefined ? DEFAULT_PORT : checkInteger('--port', values.port, 0, 65535)
  const confirmations = values.confirmations === undefined ? undefined : checkInteger('--confirmations', values.confirmations, 0, 1_000_000)
  const host = values.host ?? '127.0.0.1'
  if (host.trim() === '') throw new OptionsError('--host must not be empty')
  const dataDir = path.resolve(values['data-dir'] ?? defaultDataDir())
  const store = values.store === undefined ? undefined : checkStoreUrl(values.store)
  return { rpc, http, dataDir, host, port, confirmations, ...(store ? { store } : {}) }
}

/**
 * PROTOCOL.md listens on 127.0.0.1 unless the person asks for another host; then they must
 * know what it costs, once, at start. Null on a loopback host.
 */
export function plainHttpWarning(host: string): string | null {
  if (isLoopbackHost(host)) return null
  return `warning: --host ${host} serves Tidewatch beyond this machine over plain HTTP: the API token (in every WebSocket URL and download link) travels in clear text over the network, readable by anyone on the way. Keep the default 127.0.0.1 and reach it through an SSH tunnel or a TLS proxy where you can.`
}

function checkUrl(flag: string, value: string, protocols: string[]): string {
  if (!URL.canParse(value)) throw new OptionsError(`${flag} ${JSON.stringify(value)} is not a URL`)
  const protocol = new URL(value).protocol
  if (!protocols.includes(protocol)) throw new OptionsError(`${flag} must be a ${protocols.map((p) => `${p}//`).join(' or ')} URL, got ${protocol}//`)
  return value
}

/** The URL may carry a password: messages show it masked. */
function checkStoreUrl(value: string): string {
  if (!URL.canParse(value)) throw new OptionsError(`--store ${JSON.stringify(redactUrl(value))} is not a URL; expected postgres://user@host/database`)
  const protocol = new URL(value).protocol
  if (protocol !== 'postgres:' && protocol !== 'postgresql:') throw new OptionsError(`--store must be a postgres:// URL, got ${protocol}//`)
  return value
}

function checkInteger(flag: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value)) throw new OptionsError(`${flag} must be a whole number, got ${JSON.stringify(value)}`)
  const n = Number(value)
  if (n < min || n > max) throw new OptionsError(`${flag} must be between ${min} and ${max}, got ${n}`)
  return n
}
