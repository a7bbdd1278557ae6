/**
 * Raw HTTP to the built `tidewatch serve`: random request lines, paths and
 * percent-encodings, Host, Origin, Authorization and Upgrade headers, garbage bytes,
 * resets mid-request and mid-upgrade, clients that send a byte at a time. Each well-formed
 * request gets the answer a model of the server predicts (403 for a foreign Host or
 * Origin, 400 for a bad path, 401 without the token, …), nothing is ever a 5xx or carries
 * a secret, and after every batch the process is alive and serving.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rawExchange, type RawExchangeOptions } from '../helpers/raw-http'
import { fuzzSeed, leakedSecret, startFuzzTarget, type FuzzTarget } from './fuzz-target'

const seed = fuzzSeed('http')
let target: FuzzTarget
beforeAll(async () => {
  target = await startFuzzTarget()
}, 60_000)
afterAll(async () => target?.close())

/** A request the fuzz builds from parts, so a model can say what the server must answer. */
interface HttpCase {
  method: string
  version: 'HTTP/1.1' | 'HTTP/1.0'
  path: string
  query: 'none' | 'token' | 'wrong-token' | string
  host: string | null
  origin: 'none' | 'own' | string
  authorization: 'none' | 'token' | string
  upgrade: null | { version: string; key: string }
  extra: [string, string][]
  close: boolean
}

const PORT = '{port}'
const hexPair = fc.tuple(fc.constantFrom(...'0123456789abcdefABCDEF'), fc.constantFrom(...'0123456789abcdefABCDEF')).map(([a, b]) => `%${a}${b}`)
const badEscape = fc.constantFrom('%zz', '%', '%G0', '%0', '%%', '%u0041', '%C0%AF', '%E0%A4%A', '%FF', '%ED%A0%80', '%00', '%2e%2e', '%2f', '%5c', '%0d%0a')
const segment = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '',
      '.',
      '..',
      'index.html',
      'ui',
      'v1',
      'stream',
      'rpc',
      'exports',
      'assets',
      'x.csv',
      'api-token',
      'secret.key',
      'tidewatch.sqlite',
      'etc',
      'passwd',
    ),
  },
  { weight: 3, arbitrary: fc.stringMatching(/^[A-Za-z0-9._~!$&'()*+,;=:@-]{1,12}$/) },
  {
    weight: 2,
    arbitrary: fc.array(fc.oneof(hexPair, badEscape, fc.stringMatching(/^[a-z.]{1,3}$/)), { minLength: 1, maxLength: 4 }).map((parts) => parts.join('')),
  },
)
const pathArb = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.tuple(fc.constantFrom('/', '//', '/v1/', '/exports/'), fc.array(segment, { maxLength: 5 })).map(([start, parts]) => start + parts.join('/')),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '/',
      '//',
      '///',
      '/ui',
      '/v1/stream',
      '/v1/rpc',
      '/exports/',
      '/exports/a.csv',
      '/%zz',
      '/%00',
      '/..',
      '/../../etc/passwd',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/exports/..%2fapi-token',
      '/exports/%2e%2e%2fapi-token',
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom('*', 'http://127.0.0.1/', 'http://evil.example/v1/stream', 'evil.example:443', 'v1/stream') },
)
const hostArb = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(`127.0.0.1:${PORT}`, '127.0.0.1', 'localhost', `localhost:${PORT}`, `[::1]:${PORT}`, 'LocalHost:1') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'evil.example',
      `evil.example:${PORT}`,
      '127.0.0.1.nip.io',
      'localhost.',
      '0.0.0.0',
      '192.168.0.1',
      'a@127.0.0.1',
      `127.0.0.1:${PORT}/x`,
      '',
      '[::1',
      '127.0.0.1:99999',
      '[::2]',
    ),
  },
  { weight: 2, arbitrary: fc.stringMatching(/^[a-z][a-z0-9-]{0,15}(\.[a-z][a-z0-9-]{0,10}){0,2}(:[0-9]{1,4})?$/) },
  { weight: 1, arbitrary: fc.constant(null) },
)
const printable = fc.stringMatching(/^[\x20-\x7e]{0,40}$/).map((value) => value.trim())
const caseArb: fc.Arbitrary<HttpCase> = fc.record({
  method: fc.oneof(
    { weight: 6, arbitrary: fc.constant('GET') },
    { weight: 3, arbitrary: fc.constantFrom('HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE') },
  ),
  version: fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0'),
  path: pathArb,
  query: fc.oneof(fc.constantFrom('none', 'token', 'wrong-token'), fc.stringMatching(/^[A-Za-z0-9=&%._-]{0,30}$/)),
  host: hostArb,
  origin: fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom('none', 'own') },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        'http://evil.example',
        `http://127.0.0.1:${PORT}`,
        `https://127.0.0.1:${PORT}`,
        `http://localhost:${PORT}`,
        'null',
        'file://',
        'http://127.0.0.1',
      ),
    },
    { weight: 1, arbitrary: printable },
  ),
  authorization: fc.oneof(fc.constantFrom('none', 'none', 'token', 'Bearer wrong', 'Bearer ', 'Basic dG9rZW4='), printable),
  upgrade: fc.option(
    fc.record({
      version: fc.constantFrom('13', '13', '13', '8', 'x'),
      key: fc.constantFrom('dGhlIHNhbXBsZSBub25jZQ==', 'dGhlIHNhbXBsZSBub25jZQ==', 'short', ''),
    }),
    { freq: 2 },
  ),
  extra: fc.array(fc.tuple(fc.stringMatching(/^X-[A-Za-z0-9-]{1,10}$/), printable), { maxLength: 3 }),
  close: fc.boolean(),
})

function queryOf(c: HttpCase): string {
  return c.query === 'none' ? '' : c.query === 'token' ? `?token=${target.token}` : c.query === 'wrong-token' ? '?token=wrong' : `?${c.query}`
}

function requestText(c: HttpCase): string {
  const port = String(target.port)
  const host = c.host?.replaceAll(PORT, port) ?? null
  const lines = [`${c.method} ${c.path}${queryOf(c)} ${c.version}`]
  if (host !== null) lines.push(`Host: ${host}`)
  if (c.upgrade) lines.push('Connection: Upgrade', 'Upgrade: websocket', `Sec-WebSocket-Version: ${c.upgrade.version}`, `Sec-WebSocket-Key: ${c.upgrade.key}`)
  else if (c.close) lines.push('Connection: close')
  if (c.origin === 'own' && host !== null) lines.push(`Origin: http://${host}`)
  else if (c.origin !== 'none' && c.origin !== 'own') lines.push(`Origin: ${c.origin.replaceAll(PORT, port)}`)
  if (c.authorization === 'token') lines.push(`Authorization: Bearer ${target.token}`)
  else if (c.authorization !== 'none') lines.push(`Authorization: ${c.authorization}`)
  for (const [name, value] of c.extra) lines.push(`${name}: ${value}`)
  return `${lines.join('\r\n')}\r\n\r\n`
}

/** The statuses a correct server may answer this request with; the model follows README, PROTOCOL.md and issue #10. */
function expectedStatuses(c: HttpCase): number[] {
  const port = String(target.port)
  const host = c.host?.replaceAll(PORT, port) ?? null
  // Node's parser refuses a target that is neither a path, `*` nor an absolute URL.
  if (!c.path.startsWith('/') && c.path !== '*' && !/^https?:\/\//.test(c.path)) return [400]
  // Node itself refuses a plain HTTP/1.1 request without Host (RFC 9112 section 3.2); upgrades reach Tidewatch.
  if (host === null) return c.version === 'HTTP/1.1' && !c.upgrade ? [400] : [403]
  const hostMatch = /^(127\.0\.0\.1|localhost|\[::1\])(?::(\d{1,5}))?$/i.exec(host)
  if (!hostMatch || Number(hostMatch[2] ?? 0) > 65535) return [403]
  const url = c.path.startsWith('/') ? new URL(`http://localhost${c.path}${queryOf(c)}`) : null
  // `?token=` wins over the Authorization header when both are there.
  const queryToken = url?.searchParams.get('token') ?? null
  const hasToken = queryToken !== null ? queryToken === target.token : c.authorization === 'token'
  if (c.upgrade) {
    const origin = c.origin === 'own' ? `http://${host}` : c.origin === 'none' ? null : c.origin.replaceAll(PORT, port)
    if (origin !== null && origin.toLowerCase() !== `http://${host.toLowerCase()}`) return [403]
    if (!url) return [400]
    if (!['/ui', '/v1/stream', '/v1/rpc'].includes(url.pathname)) return [404]
    if (!hasToken) return [401]
    // The ws library's own handshake checks: method, version, key.
    if (c.method !== 'GET') return [405, 400]
    if (c.upgrade.version !== '13' && c.upgrade.version !== '8') return [400]
    if (c.upgrade.key !== 'dGhlIHNhbXBsZSBub25jZQ==') return [400]
    return [101]
  }
  if (c.method !== 'GET' && c.method !== 'HEAD') return [405]
  if (!url) return [400]
  const decodes = (() => {
    try {
      return !decodeURIComponent(url.pathname).includes('\0')
    } catch {
      return false
    }
  })()
  if (url.pathname.startsWith('/exports/')) return hasToken ? (decodes ? [400, 404] : [400]) : [401]
  return decodes ? [200, 403, 404] : [400]
}

async function exchange(c: HttpCase, options: RawExchangeOptions = {}): Promise<void> {
  const answer = await rawExchange(target.port, requestText(c), { timeoutMs: 15_000, ...options })
  expect(leakedSecret(answer.text, target.secrets), answer.text.slice(0, 300)).toBeNull()
  if (options.resetAfter !== undefined) return
  const expected: (number | null)[] = expectedStatuses(c)
  // Node's parser refuses a bad request line as soon as it sees it and closes; a slow client
  // still writing then gets a reset, which may discard the 400 before it is read.
  if (options.chunkSize !== undefined && expected.includes(400)) expected.push(null)
  expect(expected, `${JSON.stringify(requestText(c))} answered ${JSON.stringify(answer.text.slice(0, 200))}`).toContain(answer.status)
  if (answer.status === 403 || answer.status === 401 || answer.status === 400) {
    // Refusals are short plain text, never an echo of the request.
    expect(answer.body.length).toBeLessThan(300)
  }
}

const runs = (n: number, batch: number) => ({ seed: seed + batch, numRuns: n })

describe('fuzz: raw HTTP to tidewatch serve', () => {
  it('answers random well-formed requests as the model says, in batches, and stays up', async () => {
    for (let batch = 0; batch < 4; batch++) {
      await fc.assert(
        fc.asyncProperty(caseArb, (c) => exchange(c)),
        runs(600, batch),
      )
      await target.expectHealthy(`well-formed batch ${batch}`)
    }
  })

  it('survives garbage and mangled requests, half-closed', async () => {
    const mangled = fc
      .tuple(caseArb, fc.nat(), fc.constantFrom('\r\n', '\n', '\r', '\0', ' ', ':', '\x7f', '\xff', '%', 'HTTP/1.1'), fc.boolean())
      .map(([c, at, insert, cut]) => {
        const text = requestText(c)
        const i = at % (text.length + 1)
        return Buffer.from(cut ? text.slice(0, i) : text.slice(0, i) + insert + text.slice(i), 'latin1')
      })
    const garbage = fc.oneof(
      fc.uint8Array({ maxLength: 400 }).map((bytes) => Buffer.from(bytes)),
      mangled,
    )
    for (let batch = 0; batch < 2; batch++) {
      await fc.assert(
        fc.asyncProperty(garbage, async (bytes) => {
          const answer = await rawExchange(target.port, bytes, { halfClose: true, timeoutMs: 15_000 })
          expect(leakedSecret(answer.text, target.secrets)).toBeNull()
          if (answer.status !== null) expect(answer.status, answer.text.slice(0, 200)).toBeLessThan(500)
        }),
        runs(400, 10 + batch),
      )
      await target.expectHealthy(`garbage batch ${batch}`)
    }
  })

  it('survives resets at any byte of any request, upgrades included', async () => {
    const resetCase = fc
      .tuple(caseArb, fc.double({ min: 0, max: 1, noNaN: true }))
      .map(([c, where]) => ({ c, resetAfter: Math.floor(where * requestText(c).length) }))
    const upgrades = caseArb.map((c) => ({ ...c, upgrade: c.upgrade ?? { version: '13', key: 'dGhlIHNhbXBsZSBub25jZQ==' } }))
    const upgradeReset = fc
      .tuple(upgrades, fc.double({ min: 0, max: 1, noNaN: true }))
      .map(([c, where]) => ({ c, resetAfter: Math.floor(where * (requestText(c).length + 1)) }))
    for (let batch = 0; batch < 2; batch++) {
      await fc.assert(
        fc.asyncProperty(fc.oneof(resetCase, upgradeReset), ({ c, resetAfter }) => exchange(c, { resetAfter })),
        runs(400, 20 + batch),
      )
      await target.expectHealthy(`reset batch ${batch}`)
    }
  })

  it('answers clients that send a byte or two at a time as the model says', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, fc.integer({ min: 1, max: 2 }), (c, chunkSize) => exchange(c, { chunkSize })),
      runs(80, 30),
    )
    await target.expectHealthy('slow clients')
  })
})
