/**
 * The renderer's own policy (its meta tag, in force in the desktop app and the browser
 * build): nothing to connect to but its own origin, and nowhere looser than the header the
 * headless server sends.
 */
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { CONTENT_SECURITY_POLICY } from '../server/static-files'

const indexHtml = fs.readFileSync(path.resolve(__dirname, '../../renderer/index.html'), 'utf8')

function metaPolicy(): string {
  const match = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"/i.exec(indexHtml)
  if (!match) throw new Error('src/renderer/index.html has no Content-Security-Policy meta tag')
  return match[1]!
}

function directives(policy: string): Map<string, string[]> {
  return new Map(
    policy
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map(([name, ...sources]) => [name!.toLowerCase(), sources]),
  )
}

/** The sources a fetch directive allows: its own, else default-src's (CSP3 fallback for the directives used here). */
function allowed(policy: Map<string, string[]>, directive: string): string[] {
  return policy.get(directive) ?? policy.get('default-src') ?? ['*']
}

describe("the renderer's Content-Security-Policy", () => {
  it('lets the page connect to its own origin only: no ws://127.0.0.1:* or any other host', () => {
    const meta = directives(metaPolicy())
    expect(meta.get('connect-src')).toEqual(["'self'"])
    expect(meta.get('default-src')).toEqual(["'none'"])
    expect(meta.get('script-src')).toEqual(["'self'"])
    expect(meta.get('base-uri')).toEqual(["'none'"])
    expect(meta.get('form-action')).toEqual(["'none'"])
    expect(metaPolicy()).not.toMatch(/ws:|wss:|127\.0\.0\.1|localhost|\*/)
  })

  it('allows nothing the server header does not', () => {
    const meta = directives(metaPolicy())
    const header = directives(CONTENT_SECURITY_POLICY)
    for (const directive of [
      'default-src',
      'script-src',
      'style-src',
      'img-src',
      'font-src',
      'connect-src',
      'object-src',
      'media-src',
      'frame-src',
      'worker-src',
    ]) {
      const wider = allowed(meta, directive).filter((source) => source !== "'none'" && !allowed(header, directive).includes(source))
      expect(wider, directive).toEqual([])
    }
  })
})
