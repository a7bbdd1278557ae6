/** Serves the built renderer. Only files under its root; no directory listings. */
import fs from 'node:fs'
import path from 'node:path'
import type { IncomingMessage, ServerResponse } from 'node:http'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
}

/** The same policy as the renderer's meta tag, sent as a header too. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

export function serveStatic(root: string, request: IncomingMessage, response: ServerResponse): void {
  const url = new URL(request.url ?? '/', 'http://localhost')
  let relative = decodeURIComponent(url.pathname)
  if (relative === '/' || relative === '') relative = '/index.html'
  const file = path.resolve(root, `.${relative}`)
  if (!file.startsWith(path.resolve(root) + path.sep)) {
    response.writeHead(403).end('Forbidden')
    return
  }
  fs.stat(file, (error, stats) => {
    if (error || !stats.isFile()) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found')
      return
    }
    response.writeHead(200, {
      'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'content-length': stats.size,
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-cache',
    })
    fs.createReadStream(file).pipe(response)
  })
}

/** A file from a download folder, as an attachment; names only, no paths. */
export function serveDownload(downloads: { path: string; dir: string }, request: IncomingMessage, response: ServerResponse): void {
  const url = new URL(request.url ?? '/', 'http://localhost')
  const name = decodeURIComponent(url.pathname.slice(downloads.path.length))
  if (!/^[\w.-]+$/.test(name)) {
    response.writeHead(400, { 'content-type': 'text/plain' }).end('Bad file name')
    return
  }
  const file = path.join(downloads.dir, name)
  fs.stat(file, (error, stats) => {
    if (error || !stats.isFile()) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found')
      return
    }
    response.writeHead(200, {
      'content-type': name.endsWith('.csv') ? 'text/csv; charset=utf-8' : name.endsWith('.json') ? 'application/json' : 'application/x-ndjson',
      'content-length': stats.size,
      'content-disposition': `attachment; filename="${name}"`,
      'x-content-type-options': 'nosniff',
    })
    fs.createReadStream(file).pipe(response)
  })
}
