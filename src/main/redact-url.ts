/**
 * Masks API keys in endpoint URLs before they are shown or logged. Providers put the key
 * in the path (Alchemy `/v2/<key>`, Infura `/ws/v3/<key>`, QuickNode `/<key>/`, Ankr
 * `/eth/<key>`), in the query (dRPC `?dkey=<key>`), or as userinfo; keys have no telltale
 * shape (some are short, some contain `.`, `=` or `+`), so masking is by position, not by
 * looks: every path segment that is not a well-known word, every query value, the whole
 * fragment and the whole userinfo. Scheme, host and port stay, so a person can tell
 * endpoints apart. A PostgreSQL URL (the store's) names a role and a database, never a key:
 * there only the password, the query values and the fragment are masked.
 */

const MASK = '***'

const POSTGRES_SCHEMES = new Set(['postgres:', 'postgresql:'])

/** Path words that are never keys: API versions, transports, chain names providers put before the key. */
const PATH_WORDS = new Set([
  'api',
  'eth',
  'ethereum',
  'http',
  'https',
  'jsonrpc',
  'json-rpc',
  'mainnet',
  'rpc',
  'sepolia',
  'holesky',
  'hoodi',
  'ws',
  'wss',
  'websocket',
])

/** A query parameter name is shown when it reads as one (`apikey`, `dkey`, `network`); anything else may be a bare key. */
const PARAMETER_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,19}$/

function decoded(part: string): string {
  try {
    return decodeURIComponent(part)
  } catch {
    return part
  }
}

function isPathWord(segment: string): boolean {
  const word = decoded(segment).toLowerCase()
  return PATH_WORDS.has(word) || /^v\d{1,2}$/.test(word)
}

export function redactUrl(raw: string): string {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return '<invalid url>'
  }
  const postgres = POSTGRES_SCHEMES.has(url.protocol)
  const userinfo = url.username || url.password ? `${postgres ? url.username : MASK}${url.password ? `:${MASK}` : ''}@` : ''
  const path = postgres
    ? url.pathname
    : url.pathname
        .split('/')
        .map((segment) => (segment === '' || isPathWord(segment) ? segment : MASK))
        .join('/')
  const query = url.search
    ? `?${url.search
        .slice(1)
        .split('&')
        .map((pair) => {
          const at = pair.indexOf('=')
          if (at < 0) return pair === '' ? '' : MASK
          const name = pair.slice(0, at)
          return `${PARAMETER_NAME.test(decoded(name)) ? name : MASK}=${at === pair.length - 1 ? '' : MASK}`
        })
        .join('&')}`
    : ''
  const fragment = url.hash ? `#${MASK}` : ''
  const authority = url.host || url.protocol === 'file:' ? `//${userinfo}${url.host}` : ''
  return `${url.protocol}${authority}${path}${query}${fragment}`
}

/**
 * The parts of a URL that `redactUrl` masks, in every spelling a message may carry them:
 * as written, percent-decoded, and re-encoded the way URL serializers write them.
 */
function secretsOf(url: URL): string[] {
  const postgres = POSTGRES_SCHEMES.has(url.protocol)
  const parts: string[] = [url.password, url.hash.slice(1)]
  if (!postgres) {
    parts.push(url.username)
    for (const segment of url.pathname.split('/')) if (segment !== '' && !isPathWord(segment)) parts.push(segment)
  }
  for (const pair of url.search.slice(1).split('&')) {
    const at = pair.indexOf('=')
    if (at < 0) parts.push(pair)
    else {
      parts.push(pair.slice(at + 1))
      if (!PARAMETER_NAME.test(decoded(pair.slice(0, at)))) parts.push(pair.slice(0, at))
    }
  }
  const spellings = new Set<string>()
  for (const part of parts) {
    for (const spelling of [part, decoded(part), decoded(part.replace(/\+/g, ' ')), encodeURIComponent(decoded(part))]) {
      // Shorter runs are ordinary text ("1", "eth"); no provider issues keys that short.
      if (spelling.length >= 6) spellings.add(spelling)
    }
  }
  // Longest first, so a secret is never half-replaced through a shorter one inside it.
  return [...spellings].sort((a, b) => b.length - a.length)
}

/**
 * Masks a URL's secret parts wherever they appear in a message (for logs and errors): the
 * whole URL in any of its spellings first, then each secret part on its own.
 */
export function redactSecretsIn(text: string, rawUrl: string): string {
  let url: URL
  try {
    url = new URL(rawUrl)
  } catch {
    return text
  }
  const masked = redactUrl(rawUrl)
  let result = text
  for (const whole of [...new Set([rawUrl, url.href, decoded(url.href)])].sort((a, b) => b.length - a.length)) result = result.split(whole).join(masked)
  for (const secret of secretsOf(url)) result = result.split(secret).join(MASK)
  return result
}
