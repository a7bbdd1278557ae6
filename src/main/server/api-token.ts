/** The local API token: created on first start in `<data-dir>/api-token`, mode 0600. */
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { IncomingHttpHeaders } from 'node:http'
import { makeFilePrivate, makePrivateDir, PRIVATE_FILE_MODE } from '../private-files'

export const API_TOKEN_FILE = 'api-token'

export function loadOrCreateApiToken(dataDir: string): string {
  const file = path.join(dataDir, API_TOKEN_FILE)
  if (fs.existsSync(file)) {
    const token = fs.readFileSync(file, 'utf8').trim()
    if (token.length >= 32) {
      // Tighten a copy that was loosened by hand: the token guards every endpoint.
      makeFilePrivate(file)
      return token
    }
  }
  const token = crypto.randomBytes(32).toString('base64url')
  makePrivateDir(dataDir)
  fs.writeFileSync(file, `${token}\n`, { mode: PRIVATE_FILE_MODE })
  makeFilePrivate(file)
  return token
}

/** Accepts `?token=` or `Authorization: Bearer`, compared in constant time. */
export function requestHasToken(target: URL, headers: IncomingHttpHeaders, token: string): boolean {
  const header = headers.authorization
  const offered = target.searchParams.get('token') ?? (header?.startsWith('Bearer ') ? header.slice(7).trim() : null)
  if (!offered) return false
  const a = Buffer.from(offered)
  const b = Buffer.from(token)
  return a.length === b.length && crypto.timingSafeEqual(a, b)
}
