/**
 * Masks API keys in endpoint URLs before they are shown or logged. Providers put the key
 * in the path (Alchemy `/v2/<key>`, Infura `/ws/v3/<key>`), in the query, or as userinfo.
 */
export function redactUrl(raw: string): string {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return '<invalid url>'
  }
  if (url.username) url.username = '***'
  if (url.password) url.password = '***'
  url.pathname = url.pathname
    .split('/')
    .map((segment) => (looksLikeKey(segment) ? mask(segment) : segment))
    .join('/')
  for (const [name, value] of url.searchParams) if (value.length >= 8) url.searchParams.set(name, mask(value))
  return url.toString()
}

/** Keys are long runs of letters, digits, '-' and '_'; ordinary path words are short. */
function looksLikeKey(segment: string): boolean {
  return segment.length >= 16 && /^[A-Za-z0-9_-]+$/.test(segment)
}

function mask(secret: string): string {
  return `${secret.slice(0, 4)}***`
}

/** Replaces every occurrence of the URL's secret parts in a message (for logs and errors). */
export function redactSecretsIn(text: string, rawUrl: string): string {
  let url: URL
  try {
    url = new URL(rawUrl)
  } catch {
    return text
  }
  const secrets = [url.username, url.password, ...url.pathname.split('/').filter(looksLikeKey), ...[...url.searchParams.values()].filter((v) => v.length >= 8)].filter(
    (s) => s.length > 0,
  )
  return secrets.reduce((acc, secret) => acc.split(secret).join(mask(secret)), text)
}
