/**
 * Electron glue, kept thin: the window, its security, and the IPC transport. Everything
 * else is the engine (src/main/app/bootstrap.ts), shared with headless mode.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { App, BrowserWindow as BrowserWindowType, Dialog, IpcMain, SafeStorage, Session, Shell } from 'electron'
import { z } from 'zod'
import { startTidewatch, type RunningTidewatch } from '../app/bootstrap'
import { embeddedInsteadOf, openChosenStore, readStoreChoice, storeChoiceController, type OpenedStore } from '../app/store-choice'
import { createKeyFileSecretBox } from '../store/secret-box'
import { CONTENT_SECURITY_POLICY } from '../server/static-files'
import { registerIpcTransport } from './ipc-transport'
import { createDesktopLocalApi } from '../app/local-api'
import { primaryStreamDeps } from '../stream/primary-watches'
import { isTrustedRendererUrl } from './renderer-sender'
import { createSafeStorageBox } from './safe-storage-box'
import { explorerLinkHandler } from './external-links'

export interface ElectronModules {
  app: App
  BrowserWindow: typeof BrowserWindowType
  ipcMain: IpcMain
  safeStorage: SafeStorage
  session: { defaultSession: Session }
  shell: Pick<Shell, 'openExternal'>
  dialog: Pick<Dialog, 'showSaveDialog'>
}

const boundsSchema = z.object({
  x: z.number().int(),
  y: z.number().int(),
  width: z.number().int().min(400),
  height: z.number().int().min(300),
  maximized: z.boolean(),
})

const here = path.dirname(fileURLToPath(import.meta.url))

export async function runDesktopApp(electron: ElectronModules): Promise<void> {
  const { app, BrowserWindow, ipcMain } = electron
  const log = (message: string): void => console.log(`${new Date().toISOString()} ${message}`)
  const rendererIndex = path.join(here, '../renderer/index.html')
  const preloadPath = path.join(here, '../preload/index.cjs')

  if (!app.requestSingleInstanceLock()) {
    app.quit()
    return
  }
  await app.whenReady()

  // Headers for everything the window loads, in addition to the page's meta tag. The scanner
  // cannot read the policy through the constant and calls it invalid (the eng-disable below);
  // it checks the same policy where it is written out, in the renderer's index.html.
  electron.session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } }) // eng-disable CSP_GLOBAL_CHECK
  })
  electron.session.defaultSession.setPermissionRequestHandler((_contents, permission, callback) => callback(permission === 'notifications'))

  const dataDir = process.env.TIDEWATCH_DATA_DIR || app.getPath('userData')
  let running: RunningTidewatch
  try {
    const secrets = createSafeStorageBox(electron.safeStorage)
    // The store chosen in Settings (store.json); it takes effect here, at start.
    const choice = readStoreChoice(dataDir, secrets)
    const start = (opened: OpenedStore): Promise<RunningTidewatch> =>
      startTidewatch({
        dataDir,
        secrets,
        transport: 'electron',
        // A shared store's connections are the capturers' own: no local demo chain is added to it.
        demo: opened.store ? 'never' : 'auto',
        nativeBinding: process.env.TIDEWATCH_SQLITE_BINDING || undefined,
        store: opened.store,
        storeChoice: storeChoiceController({ dataDir, secrets, choice, opened }),
        // Quitting closes the engine first (before-quit below); the new instance starts once this one exits.
        restart: () =>
          setImmediate(() => {
            app.relaunch()
            app.quit()
          }),
        exportDestination: async (suggestedName) => {
          const picked = await electron.dialog.showSaveDialog({ defaultPath: path.join(app.getPath('downloads'), suggestedName) })
          return picked.canceled || !picked.filePath ? null : { file: picked.filePath, downloadUrl: null }
        },
        log,
      })
    // A shared store's saved endpoint URLs are sealed with the key file the instances sharing it
    // have in common (secret.key in each data directory), not this machine's keychain.
    const opened = await openChosenStore(choice, {
      // Loaded only when a shared store is chosen (the PostgreSQL client is tens of modules the start would wait for).
      open: async (url) =>
        (await import('../store/postgres/engine-store')).openPostgresEngineStore(url, { secrets: createKeyFileSecretBox(dataDir), dataDir, log }),
      log,
    })
    try {
      running = await start(opened)
    } catch (error) {
      // The chosen store opened but the engine could not start on it: the embedded store instead.
      if (opened.url === null) throw error
      running = await start(embeddedInsteadOf(opened.url, error, log))
    }
  } catch (error) {
    log(`Tidewatch could not start: ${error instanceof Error ? error.message : String(error)}`)
    app.exit(1)
    return
  }

  const started = running
  running.setLocalApi(
    await createDesktopLocalApi({
      dataDir,
      settings: started.engine.settings,
      rendererRoot: path.join(here, '../renderer'),
      stream: primaryStreamDeps(started, log),
    }),
  )

  // The window comes back where the person left it.
  const settings = running.engine.settings
  const bounds = settings.get('windowBounds', boundsSchema, null)
  // The security settings are written out here, where the reader and Electronegativity
  // (src/main/electron/electronegativity.test.ts) both see them; the scanner cannot follow a spread.
  const window = new BrowserWindow({
    width: bounds?.width ?? 1280,
    height: bounds?.height ?? 820,
    ...(bounds ? { x: bounds.x, y: bounds.y } : {}),
    minWidth: 900,
    minHeight: 600,
    title: 'Tidewatch',
    show: false,
    backgroundColor: '#0f1419',
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      // Middle-click on a link would otherwise ask for a new window (denied anyway by setWindowOpenHandler).
      disableBlinkFeatures: 'Auxclick',
      spellcheck: false,
    },
  })
  if (bounds?.maximized) window.maximize()
  window.on('close', () => {
    const { x, y, width, height } = window.getNormalBounds()
    settings.set('windowBounds', { x, y, width, height, maximized: window.isMaximized() })
  })
  window.webContents.setWindowOpenHandler(explorerLinkHandler(electron.shell, log))
  window.webContents.on('will-navigate', (event) => event.preventDefault())
  window.once('ready-to-show', () => window.show())

  const unregister = registerIpcTransport(
    ipcMain,
    running.api,
    () => (window.isDestroyed() ? null : window.webContents),
    (url) => isTrustedRendererUrl(url, rendererIndex),
  )
  await window.loadFile(rendererIndex)

  let quitting = false
  app.on('window-all-closed', () => app.quit())
  app.on('before-quit', (event) => {
    if (quitting) return
    event.preventDefault()
    quitting = true
    unregister()
    void running.close().finally(() => app.exit(0))
  })
}
