/**
 * Masking is safe by default: for URLs shaped like the providers' (random scheme, host,
 * port, path words, query) with a random secret in the path, the query, the fragment or
 * the userinfo, written as is or percent-encoded, nothing of the secret survives.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { redactSecretsIn, redactUrl } from './redact-url'

const HOSTS = [
  'eth-mainnet.g.alchemy.com',
  'mainnet.infura.io',
  'example-name.quiknode.pro',
  'rpc.ankr.com',
  'lb.drpc.org',
  'node.example',
  '127.0.0.1',
  '[::1]',
]
const PATH_WORDS = ['v1', 'v2', 'v3', 'ws', 'wss', 'rpc', 'http', 'api', 'eth', 'mainnet']
const PARAMETERS = ['apikey', 'key', 'token', 'network', 'dkey', 'auth']
/** Characters a key may carry, `.`, `+`, `=` and `;` included (they defeated the old look-based masking). */
const RAW_KEY_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~+=;'
const ANY_KEY_CHARS = `${RAW_KEY_CHARS}/?#&%@: "'<>é`

type Place = 'path' | 'query' | 'fragment' | 'password' | 'username'

/** Every character as %XX (UTF-8), the way a cautious client writes a key. */
const percentEncoded = (text: string): string => [...Buffer.from(text, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('')

const keyFrom = (chars: string) => fc.string({ unit: fc.constantFrom(...chars), minLength: 8, maxLength: 48 })

const urlWithSecret = fc
  .record({
    scheme: fc.constantFrom('ws', 'wss', 'http', 'https'),
    host: fc.constantFrom(...HOSTS),
    port: fc.option(fc.integer({ min: 1, max: 65_535 }), { nil: undefined }),
    before: fc.array(fc.constantFrom(...PATH_WORDS), { maxLength: 3 }),
    after: fc.array(fc.constantFrom(...PATH_WORDS), { maxLength: 2 }),
    trailingSlash: fc.boolean(),
    query: fc.array(fc.tuple(fc.constantFrom(...PARAMETERS), fc.constantFrom('1', 'ethereum', 'x')), { maxLength: 2 }),
    place: fc.constantFrom<Place>('path', 'query', 'fragment', 'password', 'username'),
    encoded: fc.boolean(),
  })
  .chain((shape) => fc.record({ shape: fc.constant(shape), secret: keyFrom(shape.encoded ? ANY_KEY_CHARS : RAW_KEY_CHARS) }))
  .map(({ shape, secret }) => {
    const written = shape.encoded ? percentEncoded(secret) : secret
    const at = (place: Place) => (shape.place === place ? written : null)
    const userinfo = at('username') ? `${written}@` : at('password') ? `user:${written}@` : ''
    const segments = [...shape.before, ...(at('path') ? [written] : []), ...shape.after]
    const query = [...shape.query.map(([name, value]) => `${name}=${value}`), ...(at('query') ? [`apikey=${written}`] : [])]
    const url = `${shape.scheme}://${userinfo}${shape.host}${shape.port ? `:${shape.port}` : ''}/${segments.join('/')}${shape.trailingSlash && segments.length ? '/' : ''}${
      query.length ? `?${query.join('&')}` : ''
    }${at('fragment') ? `#${written}` : ''}`
    // The same URL without the secret: what may legitimately show.
    const skeleton = url.split(written).join('')
    return { url, secret, written, skeleton }
  })

const sixCharRuns = (text: string): string[] => Array.from({ length: Math.max(0, text.length - 5) }, (_, i) => text.slice(i, i + 6))

/** Runs of the secret that also occur in the visible rest of the URL (host, words) prove nothing either way. */
const revealing = (secret: string, skeleton: string): string[] => sixCharRuns(secret).filter((run) => !skeleton.includes(run))

describe('redactUrl', () => {
  it('masks every key position and keeps scheme, host and port', () => {
    expect(redactUrl('wss://eth-mainnet.g.alchemy.com/v2/abcdEFGH1234ijklMNOP5678')).toBe('wss://eth-mainnet.g.alchemy.com/v2/***')
    expect(redactUrl('wss://mainnet.infura.io/ws/v3/0123456789abcdef0123456789abcdef')).toBe('wss://mainnet.infura.io/ws/v3/***')
    expect(redactUrl('https://example-name.quiknode.pro/0123456789abcdef/')).toBe('https://example-name.quiknode.pro/***/')
    expect(redactUrl('wss://lb.drpc.org/ogws?network=ethereum&dkey=Ak80gSCleU')).toBe('wss://lb.drpc.org/***?network=***&dkey=***')
    expect(redactUrl('https://user:hunter2@node.example:8443/rpc#k=short')).toBe('https://***:***@node.example:8443/rpc#***')
    expect(redactUrl('https://node.example/a.b+c=d;e/?ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')).toBe('https://node.example/***/?***')
    expect(redactUrl('ws://127.0.0.1:8545')).toBe('ws://127.0.0.1:8545/')
    expect(redactUrl('not a url')).toBe('<invalid url>')
  })

  it('never shows the secret or any 6 characters of it, wherever it sits and however it is written', () => {
    fc.assert(
      fc.property(urlWithSecret, ({ url, secret, written, skeleton }) => {
        const masked = redactUrl(url)
        for (const form of new Set([secret, written])) {
          for (const run of revealing(form, skeleton)) expect(masked, `${url} → ${masked}`).not.toContain(run)
        }
        expect(masked).not.toBe('<invalid url>')
      }),
      { numRuns: 1_000 },
    )
  })
})

describe('redactSecretsIn', () => {
  it('masks the URL and each of its secrets in free text, in every spelling', () => {
    fc.assert(
      fc.property(urlWithSecret, ({ url, secret, written, skeleton }) => {
        const parsed = new URL(url)
        const text = `fetch failed: ${url} (as serialized: ${parsed.href}); the key was ${secret}, written ${written}`
        const masked = redactSecretsIn(text, url)
        for (const form of new Set([secret, written])) {
          for (const run of revealing(form, skeleton)) expect(masked, masked).not.toContain(run)
        }
        expect(masked).toContain(redactUrl(url))
      }),
      { numRuns: 500 },
    )
  })
})

describe('PostgreSQL URLs', () => {
  it('keep the role, host, port and database, and mask the password and query values', () => {
    expect(redactUrl('postgres://capture:s3cret-pass@db.example:5432/tidewatch')).toBe('postgres://capture:***@db.example:5432/tidewatch')
    expect(redactUrl('postgresql://capture@db.example/tidewatch?sslmode=require')).toBe('postgresql://capture@db.example/tidewatch?sslmode=***')
    expect(
      redactSecretsIn(
        'password authentication failed for user "capture" at postgres://capture:s3cret-pass@db.example/tidewatch',
        'postgres://capture:s3cret-pass@db.example/tidewatch',
      ),
    ).toBe('password authentication failed for user "capture" at postgres://capture:***@db.example/tidewatch')
  })

  it('never show the password, however it is written, in the URL or in free text', () => {
    const postgresUrl = fc
      .record({ secret: keyFrom(ANY_KEY_CHARS), encoded: fc.boolean(), inQuery: fc.boolean(), scheme: fc.constantFrom('postgres', 'postgresql') })
      .map(({ secret, encoded, inQuery, scheme }) => {
        const written = encoded ? percentEncoded(secret) : encodeURIComponent(secret)
        const url = inQuery ? `${scheme}://capture@db.example:5432/tidewatch?password=${written}` : `${scheme}://capture:${written}@db.example:5432/tidewatch`
        return { url, secret, written, skeleton: url.split(written).join('') }
      })
    fc.assert(
      fc.property(postgresUrl, ({ url, secret, written, skeleton }) => {
        const masked = redactUrl(url)
        const text = redactSecretsIn(`could not connect with ${url}: the password ${secret} (written ${written}) was refused`, url)
        for (const form of new Set([secret, written])) {
          for (const run of revealing(form, skeleton)) {
            expect(masked, `${url} → ${masked}`).not.toContain(run)
            expect(text, text).not.toContain(run)
          }
        }
        expect(masked).toMatch(/^postgres(ql)?:\/\/capture(:\*\*\*)?@db\.example:5432\/tidewatch/)
      }),
      { numRuns: 500 },
    )
  })
})
