/**
 * Main-process wiring with Electron replaced by recording fakes: the window's security
 * settings, navigation blocking, CSP, and the IPC transport of every contract command.
 */
import { EventEmitter } from 'node:events'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import net from 'node:net'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { StreamClient } from '../../../test/helpers/stream-client'
import { COMMAND_NAMES, commandChannel } from '../../shared/channels'
import { ConnectionStore } from '../store/connection-store'
import { openDatabase } from '../store/database'
import { DATABASE_FILE } from '../engine/engine'
import { SettingsStore } from '../store/settings-store'
import { TidewatchStore } from '../store/tidewatch-store'
import { createKeyFileSecretBox } from '../store/secret-box'
import { openPostgresEngineStore } from '../store/postgres/engine-store'
import { STORE_CHOICE_FILE, writeStoreChoice } from '../app/store-choice'
import { runDesktopApp, type ElectronModules } from './app-main'
import { createSafeStorageBox } from './safe-storage-box'

// The PostgreSQL store's opener, replaced: these tests choose what it answers.
vi.mock('../store/postgres/engine-store', () => ({ openPostgresEngineStore: vi.fn() }))

type Handler = (event: { senderFrame?: { url: string } | null }, payload: unknown) => unknown

const fakeSafeStorage = {
  isEncryptionAvailable: () => true,
  encryptString: (plain: string) => Buffer.from(plain, 'utf8').reverse(),
  decryptString: (sealed: Buffer) => Buffer.from(sealed).reverse().toString('utf8'),
}

function fakeElectron(dataDir: string) {
  const handlers = new Map<string, Handler>()
  const windows: FakeWindow[] = []
  const appEvents = new EventEmitter()
  let headersHook: ((details: { responseHeaders?: Record<string, string[]> }, cb: (r: { responseHeaders: Record<string, string[]> }) => void) => void) | null =
    null
  let exitCode: number | null = null
  let relaunches = 0

  class FakeWindow extends EventEmitter {
    options: unknown
    loaded: string | null = null
    openHandler: ((details: { url: string }) => { action: string }) | null = null
    contents = Object.assign(new EventEmitter(), {
      sent: [] as [string, unknown][],
      setWindowOpenHandler: (handler: (details: { url: string }) => { action: string }) => {
        this.openHandler = handler
      },
      send: (channel: string, payload: unknown) => this.contents.sent.push([channel, payload]),
      isDestroyed: () => false,
    })
    constructor(options: unknown) {
      super()
      this.options = options
      windows.push(this)
    }
    get webContents() {
      return this.contents
    }
    isDestroyed() {
      return false
    }
    show() {}
    maximize() {}
    isMaximized() {
      return false
    }
    getNormalBounds() {
      return { x: 10, y: 20, width: 1100, height: 700 }
    }
    async loadFile(file: string) {
      this.loaded = file
    }
  }

  const modules = {
    app: Object.assign(appEvents, {
      requestSingleInstanceLock: () => true,
      whenReady: async () => undefined,
      getPath: (name: string) => (name === 'downloads' ? os.tmpdir() : dataDir),
      quit: () => appEvents.emit('before-quit', { preventDefault: () => undefined }),
      exit: (code: number) => {
        exitCode = code
      },
      relaunch: () => {
        relaunches++
      },
    }),
    BrowserWindow: FakeWindow,
    ipcMain: {
      handle: (channel: string, handler: Handler) => handlers.set(channel, handler),
      removeHandler: (channel: string) => handlers.delete(channel),
    },
    safeStorage: fakeSafeStorage,
    session: {
      defaultSession: {
        webRequest: { onHeadersReceived: (hook: typeof headersHook) => (headersHook = hook) },
        setPermissionRequestHandler: () => undefined,
      },
    },
    shell: { openExternal: async () => undefined },
    dialog: {
      showSaveDialog: async (options: { defaultPath: string }) => ({ canceled: false, filePath: path.join(dataDir, path.basename(options.defaultPath)) }),
    },
  } as unknown as ElectronModules
  return { modules, handlers, windows, appEvents, headers: () => headersHook, exitCode: () => exitCode, relaunches: () => relaunches }
}

let dataDir: string
beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-electron-'))
  process.env.TIDEWATCH_DATA_DIR = dataDir
  // A saved user endpoint means no demo chain is started for this test.
  const db = openDatabase(path.join(dataDir, DATABASE_FILE))
  new ConnectionStore(db, createSafeStorageBox(fakeSafeStorage)).add({ name: 'saved', url: 'ws://127.0.0.1:9/unreachable', kind: 'user' })
  db.close()
})
afterEach(() => {
  delete process.env.TIDEWATCH_DATA_DIR
  fs.rmSync(dataDir, { recursive: true, force: true })
})

describe('desktop app wiring', () => {
  it('opens one locked-down window and serves every command over IPC to it alone', async () => {
    const fake = fakeElectron(dataDir)
    await runDesktopApp(fake.modules)

    expect(fake.windows).toHaveLength(1)
    const window = fake.windows[0]!
    expect(window.options).toMatchObject({
      webPreferences: { contextIsolation: true, sandbox: true, nodeIntegration: false, webviewTag: false, disableBlinkFeatures: 'Auxclick' },
    })
    const prefs = (window.options as { webPreferences: { preload: string } }).webPreferences
    expect(prefs.preload).toMatch(/preload[/\\]index\.cjs$/)
    expect(window.loaded).toMatch(/renderer[/\\]index\.html$/)
    expect(window.openHandler?.({ url: 'https://example.com' })).toEqual({ action: 'deny' })
    let prevented = false
    window.webContents.emit('will-navigate', { preventDefault: () => (prevented = true) }, 'https://example.com')
    expect(prevented).toBe(true)

    let headers: Record<string, string[]> = {}
    fake.headers()?.({ responseHeaders: {} }, (result) => (headers = result.responseHeaders))
    expect(headers['Content-Security-Policy']?.[0]).toContain("script-src 'self'")

    expect([...fake.handlers.keys()].sort()).toEqual(COMMAND_NAMES.map(commandChannel).sort())
    const info = fake.handlers.get(commandChannel('app.info'))!
    const trusted = { senderFrame: { url: `file://${window.loaded}` } }
    await expect(info(trusted, {})).resolves.toMatchObject({ ok: true, value: { transport: 'electron', dataDir } })
    await expect(info({ senderFrame: { url: 'https://evil.example/' } }, {})).resolves.toMatchObject({ ok: false })

    const add = fake.handlers.get(commandChannel('connections.add'))!
    await expect(add(trusted, { url: 'http://not-a-websocket' })).resolves.toMatchObject({
      ok: false,
      error: { code: 'invalid_request', field: 'url', message: expect.stringMatching(/ws:\/\/ or wss:\/\//) },
    })
    const list = (await fake.handlers.get(commandChannel('connections.list'))!(trusted, {})) as { ok: boolean; value: { name: string; displayUrl: string }[] }
    expect(list.value.map((c) => c.name)).toEqual(['saved'])

    // Export goes where the save dialog says.
    const started = (await fake.handlers.get(commandChannel('export.start'))!(trusted, { format: 'csv' })) as { ok: boolean; value: { exportId: string } }
    expect(started.ok).toBe(true)
    await expect
      .poll(() => window.contents.sent.some(([channel, p]) => channel.endsWith('export.progress') && (p as { state: string }).state === 'done'))
      .toBe(true)
    const done = window.contents.sent.find(([channel, p]) => channel.endsWith('export.progress') && (p as { state: string }).state === 'done')![1] as {
      file: string
      downloadUrl: string | null
    }
    expect(done.downloadUrl).toBeNull()
    expect(fs.readFileSync(done.file, 'utf8').split('\n')[0]).toMatch(/^id,received_at,connection_id/)

    window.emit('close')
    fake.appEvents.emit('before-quit', { preventDefault: () => undefined })
    await expect.poll(() => fake.exitCode()).toBe(0)
    expect(fake.handlers.size).toBe(0)
  })

  it('serves /v1/stream on 127.0.0.1 only once the person turns the local API on, and remembers it', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as net.AddressInfo
        probe.close(() => resolve(free))
      })
    })
    const fake = fakeElectron(dataDir)
    await runDesktopApp(fake.modules)
    const trusted = { senderFrame: { url: `file://${fake.windows[0]!.loaded}` } }
    const get = fake.handlers.get(commandChannel('localApi.get'))!
    const set = fake.handlers.get(commandChannel('localApi.set'))!
    await expect(get(trusted, {})).resolves.toMatchObject({ ok: true, value: { enabled: false, mode: 'desktop', url: null } })
    const on = (await set(trusted, { enabled: true, port })) as { ok: boolean; value: { url: string; tokenFile: string } }
    expect(on.value.url).toBe(`http://127.0.0.1:${port}/`)
    const token = fs.readFileSync(on.value.tokenFile, 'utf8').trim()
    expect((fs.statSync(on.value.tokenFile).mode & 0o777).toString(8)).toBe('600')
    const client = await StreamClient.connect(on.value.url, token)
    client.send({ type: 'ping', req_id: 'p', data: {} })
    await client.until('pong', (m) => m.some((x) => x.type === 'pong' && x.req_id === 'p'), 5_000)
    client.close()
    fake.windows[0]!.emit('close')
    fake.appEvents.emit('before-quit', { preventDefault: () => undefined })
    await expect.poll(() => fake.exitCode()).toBe(0)

    // The setting and the window's place survive a restart; turning the API off closes the port.
    const again = fakeElectron(dataDir)
    await runDesktopApp(again.modules)
    expect(again.windows[0]!.options).toMatchObject({ x: 10, y: 20, width: 1100, height: 700 })
    const trusted2 = { senderFrame: { url: `file://${again.windows[0]!.loaded}` } }
    await expect(again.handlers.get(commandChannel('localApi.get'))!(trusted2, {})).resolves.toMatchObject({
      value: { enabled: true, url: `http://127.0.0.1:${port}/` },
    })
    await again.handlers.get(commandChannel('localApi.set'))!(trusted2, { enabled: false })
    await expect(StreamClient.connect(`http://127.0.0.1:${port}/`, token)).rejects.toThrow(/ECONNREFUSED/)
    again.appEvents.emit('before-quit', { preventDefault: () => undefined })
    await expect.poll(() => again.exitCode()).toBe(0)
  })
})

describe('the store chosen in Settings', () => {
  const PASSWORD = 'pg-Pa55word-x'
  const CHOSEN = `postgres://viewer:${PASSWORD}@db.example:5432/shared`
  const MASKED = 'postgres://viewer:***@db.example:5432/shared'
  const opener = vi.mocked(openPostgresEngineStore)
  let sharedDir: string
  let logged: string[]

  beforeEach(() => {
    sharedDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-electron-shared-'))
    logged = []
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => void logged.push(String(line)))
  })
  afterEach(() => {
    vi.restoreAllMocks()
    opener.mockReset()
    fs.rmSync(sharedDir, { recursive: true, force: true })
  })

  async function startDesktop() {
    const fake = fakeElectron(dataDir)
    await runDesktopApp(fake.modules)
    expect(fake.windows, logged.join('\n')).toHaveLength(1)
    const trusted = { senderFrame: { url: `file://${fake.windows[0]!.loaded}` } }
    const call = async (name: Parameters<typeof commandChannel>[0], payload: unknown) =>
      (await fake.handlers.get(commandChannel(name))!(trusted, payload)) as { ok: boolean; value?: unknown; error?: { message: string; field?: string } }
    const quit = async () => {
      fake.appEvents.emit('before-quit', { preventDefault: () => undefined })
      await expect.poll(() => fake.exitCode()).toBe(0)
    }
    return { fake, call, quit }
  }

  it('opens the chosen PostgreSQL store with the URL and the shared key file, and reports it masked', async () => {
    writeStoreChoice(dataDir, createSafeStorageBox(fakeSafeStorage), CHOSEN)
    // Stands in for the shared store: a store elsewhere that names itself by its masked URL.
    const seeded = openDatabase(path.join(sharedDir, DATABASE_FILE))
    new SettingsStore(seeded).set('preferences', { demoNoteDismissed: true })
    seeded.close()
    opener.mockImplementation(async (_url, options) => (listeners) => {
      const store = new TidewatchStore({ ...listeners, dataDir: sharedDir, secrets: options.secrets })
      Object.defineProperty(store, 'location', { value: MASKED })
      return store
    })

    const { call, quit } = await startDesktop()
    expect(opener).toHaveBeenCalledTimes(1)
    const [url, options] = opener.mock.calls[0]!
    expect(url).toBe(CHOSEN)
    // The key file of the data directory, which instances sharing a store have in common.
    expect(options.secrets.decrypt(createKeyFileSecretBox(dataDir).encrypt('sealed here'))).toBe('sealed here')

    // The engine runs on it: its settings, none of the embedded store's connections, and no demo chain added to it.
    await expect(call('preferences.get', {})).resolves.toEqual({ ok: true, value: { demoNoteDismissed: true } })
    await expect(call('connections.list', {})).resolves.toEqual({ ok: true, value: [] })
    const status = await call('store.get', {})
    expect(status).toEqual({
      ok: true,
      value: { kind: 'postgres', location: MASKED, configured: { url: MASKED }, restartRequired: false, editable: true, lastError: null },
    })
    expect(JSON.stringify(status)).not.toContain(PASSWORD)
    expect(logged.join('\n')).not.toContain(PASSWORD)
    await quit()
  })

  it('falls back to the embedded store when the chosen one cannot be opened, and says why in the log and in store.get', async () => {
    writeStoreChoice(dataDir, createSafeStorageBox(fakeSafeStorage), CHOSEN)
    opener.mockRejectedValue(new Error(`password authentication failed for ${CHOSEN}`))

    const { call, quit } = await startDesktop()
    const list = (await call('connections.list', {})) as { value: { name: string }[] }
    expect(list.value.map((c) => c.name)).toEqual(['saved'])
    const status = (await call('store.get', {})) as { ok: boolean; value: { kind: string; location: string; lastError: string } }
    expect(status.value).toMatchObject({
      kind: 'sqlite',
      location: path.join(dataDir, DATABASE_FILE),
      configured: { url: MASKED },
      restartRequired: true,
      editable: true,
    })
    expect(status.value.lastError).toMatch(/Could not open the PostgreSQL store/)
    expect(status.value.lastError).toContain('password authentication failed')
    expect(JSON.stringify(status)).not.toContain(PASSWORD)
    expect(logged.some((line) => line.includes('Could not open the PostgreSQL store') && line.includes(MASKED))).toBe(true)
    expect(logged.join('\n')).not.toContain(PASSWORD)
    await quit()
  })

  it('falls back to the embedded store when the engine cannot start on the chosen one', async () => {
    writeStoreChoice(dataDir, createSafeStorageBox(fakeSafeStorage), CHOSEN)
    opener.mockResolvedValue(() => {
      throw new Error('relation "connections" does not exist')
    })
    const { call, quit } = await startDesktop()
    const list = (await call('connections.list', {})) as { value: { name: string }[] }
    expect(list.value.map((c) => c.name)).toEqual(['saved'])
    await expect(call('store.get', {})).resolves.toMatchObject({
      ok: true,
      value: {
        kind: 'sqlite',
        configured: { url: MASKED },
        restartRequired: true,
        lastError: expect.stringContaining('relation "connections" does not exist'),
      },
    })
    await quit()
  })

  it('starts on the embedded store over a damaged store.json, and says so', async () => {
    fs.writeFileSync(path.join(dataDir, STORE_CHOICE_FILE), 'not json')
    const { call, quit } = await startDesktop()
    expect(opener).not.toHaveBeenCalled()
    await expect(call('store.get', {})).resolves.toMatchObject({
      ok: true,
      value: { kind: 'sqlite', configured: null, restartRequired: false, lastError: expect.stringContaining(STORE_CHOICE_FILE) },
    })
    await quit()
  })

  it('saves a choice for the next start, sealed and private, and restarts on request', async () => {
    const { fake, call } = await startDesktop()
    const bad = await call('store.set', { url: `mysql://root:${PASSWORD}@db.example/x` })
    expect(bad).toMatchObject({ ok: false, error: { field: 'url', message: expect.stringMatching(/postgres:\/\//) } })
    expect(JSON.stringify(bad)).not.toContain(PASSWORD)
    expect(fs.existsSync(path.join(dataDir, STORE_CHOICE_FILE))).toBe(false)

    await expect(call('store.set', { url: CHOSEN })).resolves.toEqual({
      ok: true,
      value: {
        kind: 'sqlite',
        location: path.join(dataDir, DATABASE_FILE),
        configured: { url: MASKED },
        restartRequired: true,
        editable: true,
        lastError: null,
      },
    })
    const file = path.join(dataDir, STORE_CHOICE_FILE)
    expect((fs.statSync(file).mode & 0o777).toString(8)).toBe('600')
    expect(fs.readFileSync(file, 'utf8')).not.toContain(PASSWORD)
    // Nothing opened yet: the choice waits for the next start.
    expect(opener).not.toHaveBeenCalled()

    expect(fake.relaunches()).toBe(0)
    await expect(call('app.restart', {})).resolves.toEqual({ ok: true, value: { restarting: true } })
    // Relaunched, then quit the ordinary way: the engine closes, the IPC handlers go, the process exits 0.
    await expect.poll(() => fake.exitCode()).toBe(0)
    expect(fake.relaunches()).toBe(1)
    expect(fake.handlers.size).toBe(0)
  })
})
