/**
 * Links the renderer opens with target=_blank: never a new Electron window (no remote
 * content is loaded into the app). Pages of a known chain's block explorer, https only,
 * go to the system browser; everything else is dropped.
 */
import type { Shell } from 'electron'
import { isKnownExplorerUrl } from '../chain-info/known-chains'

export function explorerLinkHandler(shell: Pick<Shell, 'openExternal'>, log: (message: string) => void) {
  return ({ url }: { url: string }): { action: 'deny' } => {
    if (isKnownExplorerUrl(url))
      void shell.openExternal(url).catch((error: unknown) => log(`could not open ${url}: ${error instanceof Error ? error.message : String(error)}`))
    else log(`refused to open ${url.slice(0, 200)}: not a page of a known block explorer`)
    return { action: 'deny' }
  }
}
