/** Serves the built renderer. Only files under its root; no directory listings. */
import fs from 'node:fs'
import path from 'node:path'
import { pipeline } from 'node:stream'
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'
import { decodePathSegment } from './request-guard'

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

/** A file under the renderer root, by the request's path (already parsed by the server). */
export function serveStatic(root: string, target: URL, response: ServerResponse): void {
  let relative = decodePathSegment(target.pathname)
  // A NUL byte would make fs throw instead of answering: no file has one in its name.
  if (relative === null || relative.includes('\0')) {
    plain(response, 400, 'Bad request: the path is not validly percent-encoded.')
    return
  }
  if (relative === '/' || relative === '') relative = '/index.html'
  const file = path.resolve(root, `.${relative}`)
  // The root itself (`//`) is no file and gets a 404 below; anything outside it is refused.
  if (file !== path.resolve(root) && !file.startsWith(path.resolve(root) + path.sep)) {
    plain(response, 403, 'Forbidden')
    return
  }
  sendFile(file, response, (size) => ({
    'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
    'content-length': size,
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-cache',
  }))
}

/** A file from a download folder, as an attachment; names only, no paths. */
export function serveDownload(downloads: { path: string; dir: string }, target: URL, response: ServerResponse): void {
  const name = decodePathSegment(target.pathname.slice(downloads.path.length))
  if (name === null || !/^[\w.-]+$/.test(name)) {
    plain(response, 400, 'Bad file name')
    return
  }
  sendFile(path.join(downloads.dir, name), response, (size) => ({
    'content-type': name.endsWith('.csv') ? 'text/csv; charset=utf-8' : name.endsWith('.json') ? 'application/json' : 'application/x-ndjson',
    'content-length': size,
    'content-disposition': `attachment; filename="${name}"`,
    'x-content-type-options': 'nosniff',
  }))
}

/**
 * Sends a regular file with 200 once it is open, else 404. The file may go between the
 * stat and the open (an export removed meanwhile) or fail while it is read: the first is a
 * 404, the second ends that response only.
 */
function sendFile(file: string, response: ServerResponse, headers: (size: number) => OutgoingHttpHeaders): void {
  fs.stat(file, (error, stats) => {
    if (error || !stats.isFile()) {
      plain(response, 404, 'Not found')
      return
    }
    const stream = fs.createReadStream(file)
    stream.once('error', () => {
      if (!response.headersSent) plain(response, 404, 'Not found')
    })
    stream.once('open', () => {
      response.writeHead(200, headers(stats.size))
      pipeline(stream, response, () => undefined)
    })
  })
}

function plain(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(text)
}
