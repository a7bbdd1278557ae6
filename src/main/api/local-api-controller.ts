/** What the API needs of the local stream API: its status, and turning it on or off (desktop only). */
import type { LocalApiStatus } from '../../shared/contract'

export interface LocalApiController {
  get(): LocalApiStatus
  set(enabled: boolean, port?: number): Promise<LocalApiStatus>
  close(): Promise<void>
}
