/// <reference types="vite/client" />
import type { TidewatchBridge } from '@shared/bridge'

declare global {
  interface Window {
    /** Exposed by the Electron preload; absent when the UI is served to a browser. */
    tidewatch?: TidewatchBridge
  }
}

export {}
