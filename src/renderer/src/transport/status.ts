/** How the renderer is connected to the engine; only the WebSocket transport ever leaves 'connected'. */
export type RefusalReason =
  /** The page URL carried no token and none was stored for this tab. */
  | 'missing-token'
  /** The server closed the socket with an authorization close code. */
  | 'invalid-token'
  /** The very first handshake failed: a wrong token or an engine that is not running. */
  | 'unreachable'

export type TransportStatus =
  | { state: 'connecting' }
  | { state: 'connected' }
  | { state: 'reconnecting'; attempt: number; retryInMs: number }
  | { state: 'refused'; reason: RefusalReason; retrying: boolean }

export const SERVE_HINT = 'Open the URL printed by `npm run serve` (it contains the access token).'

export function refusalMessage(reason: RefusalReason): string {
  switch (reason) {
    case 'missing-token':
      return `This page was opened without an access token, so Tidewatch refused the connection. ${SERVE_HINT}`
    case 'invalid-token':
      return `Tidewatch refused the connection: the access token is missing, invalid or from an earlier run. ${SERVE_HINT}`
    case 'unreachable':
      return `Could not connect to the Tidewatch engine. If the token is wrong or Tidewatch was restarted, ${SERVE_HINT.charAt(0).toLowerCase()}${SERVE_HINT.slice(1)}`
  }
}
