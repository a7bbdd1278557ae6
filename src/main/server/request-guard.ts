/**
 * What the HTTP server checks before it looks at a request's path: that the request
 * target is a path it can read, and that the request is meant for this server. The API
 * token is the main lock; the Host and Origin checks stop DNS rebinding (a web page whose
 * domain is re-pointed at 127.0.0.1 sends its own name as Host) and cross-site WebSocket
 * upgrades (a browser page of another origin sends its Origin) before the token is even
 * compared.
 */
import os from 'node:os'
import type { IncomingHttpHeaders } from 'node:http'

const LOOPBACK_HOSTNAMES = ['127.0.0.1', 'localhost', '[::1]']
const WILDCARD_HOSTS = ['0.0.0.0', '::', '[::]']

/**
 * The request target as a URL, or null when it is not a path ("origin-form", RFC 9112
 * section 3.2.1): browsers and WebSocket clients only ever send paths to a server that is
 * not a proxy. `//` is a path here, not a scheme-relative URL.
 */
export function parseRequestTarget(target: string | undefined): URL | null {
  if (!target?.startsWith('/')) return null
  const raw = `http://localhost${target}`
  return URL.canParse(raw) ? new URL(raw) : null
}

/** `decodeURIComponent` that answers null for a malformed escape such as `%zz`. */
export function decodePathSegment(encoded: string): string | null {
  try {
    return decodeURIComponent(encoded)
  } catch {
    return null
  }
}

/** Whether listening on this host keeps the server on this machine. */
export function isLoopbackHost(host: string): boolean {
  const name = hostnameOf(host.includes(':') && !host.startsWith('[') ? `[${host}]` : host)
  return name !== null && (name === 'localhost' || name === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(name))
}

export interface HostPolicy {
  /** Why a plain HTTP request is refused (403), or null when it is for this server. */
  refuseRequest(headers: IncomingHttpHeaders): string | null
  /** The same for a WebSocket upgrade, which must also come from this server's own pages or from a non-browser client. */
  refuseUpgrade(headers: IncomingHttpHeaders): string | null
}

/**
 * Accepts Host names of this machine's loopback interface and the host the server listens
 * on; on a wildcard address (0.0.0.0, ::) that is every address of this machine's
 * interfaces and its host name, which is what a browser elsewhere on the network sends.
 */
export function createHostPolicy(listenHost: string): HostPolicy {
  const configured = hostnameOf(listenHost.includes(':') && !listenHost.startsWith('[') ? `[${listenHost}]` : listenHost)
  const wildcard = WILDCARD_HOSTS.includes(listenHost)
  const allowedHostnames = (): Set<string> => {
    const names = new Set(LOOPBACK_HOSTNAMES)
    if (configured) names.add(configured)
    if (wildcard) {
      names.add(os.hostname().toLowerCase())
      for (const addresses of Object.values(os.networkInterfaces())) {
        for (const { address, family } of addresses ?? []) {
          const name = hostnameOf(family === 'IPv6' ? `[${address.split('%')[0]}]` : address)
          if (name) names.add(name)
        }
      }
    }
    return names
  }
  const refuseRequest = (headers: IncomingHttpHeaders): string | null => {
    const host = headers.host
    if (host === undefined) return 'Forbidden: the request has no Host header.'
    const hostname = hostnameOf(host)
    if (hostname === null || !allowedHostnames().has(hostname)) return 'Forbidden: the Host header does not name this Tidewatch server.'
    return null
  }
  return {
    refuseRequest,
    refuseUpgrade(headers) {
      const refusal = refuseRequest(headers)
      if (refusal) return refusal
      // No Origin: not a browser (wscat, viem, ethers in Node), which the token alone guards.
      const origin = headers.origin ?? headers['sec-websocket-origin']
      if (origin === undefined) return null
      const own = new URL(`http://${headers.host}`).host
      if (typeof origin !== 'string' || !URL.canParse(origin) || new URL(origin).protocol !== 'http:' || new URL(origin).host !== own) {
        return "Forbidden: WebSocket connections from another origin are refused; only this server's own pages and non-browser clients may connect."
      }
      return null
    },
  }
}

/** The lower-case host name of a Host header value (port dropped), or null when it is not one. */
function hostnameOf(host: string): string | null {
  // Userinfo, paths and whitespace have no place in a Host header; URL would accept some of them.
  if (host === '' || /[\s/?#@\\]/.test(host)) return null
  const raw = `http://${host}/`
  return URL.canParse(raw) ? new URL(raw).hostname : null
}
