/**
 * store.get, store.set and app.restart through the API (validation included): the desktop's
 * choice, headless mode's read-only answer, and never a password in an answer or an error.
 */
import { describe, expect, it } from 'vitest'
import type { Engine } from '../engine/engine'
import { createApi } from './api'
import type { HandlerDeps } from './handlers'
import type { StoreChoiceController } from './store-controller'

const PASSWORD = 'hunter2-Secret'

/** The store commands read only where the engine's store is; the rest of the engine is not reached. */
function apiFor(location: string, deps: Partial<HandlerDeps>) {
  const engine = { storeLocation: location, on: () => undefined } as unknown as Engine
  const logged: string[] = []
  const api = createApi(engine, { version: 'test', transport: 'electron', dataDir: '/data' }, (line) => logged.push(line), {
    localApi: () => null,
    exportDestination: async () => null,
    ...deps,
  })
  return { api, logged }
}

/** A desktop choice held in memory, as store-choice.ts holds it in store.json. */
function memoryChoice(inUse: string | null): StoreChoiceController & { saved: (string | null)[] } {
  let current: string | null = inUse
  const saved: (string | null)[] = []
  return {
    saved,
    current: () => ({
      configured: current === null ? null : { url: current.replace(`:${PASSWORD}@`, ':***@') },
      restartRequired: current !== inUse,
      lastError: null,
    }),
    save(url) {
      saved.push(url)
      current = url
    },
  }
}

describe('store commands on the desktop', () => {
  it('reports the embedded store and saves a PostgreSQL one for the next start', async () => {
    const choice = memoryChoice(null)
    const { api } = apiFor('/data/tidewatch.sqlite', { storeKind: 'sqlite', storeChoice: choice })
    await expect(api.handle('store.get', {})).resolves.toEqual({
      ok: true,
      value: { kind: 'sqlite', location: '/data/tidewatch.sqlite', configured: null, restartRequired: false, editable: true, lastError: null },
    })
    const set = await api.handle('store.set', { url: `  postgres://tw:${PASSWORD}@db.example/capture  ` })
    expect(choice.saved).toEqual([`postgres://tw:${PASSWORD}@db.example/capture`])
    expect(set).toEqual({
      ok: true,
      value: {
        kind: 'sqlite',
        location: '/data/tidewatch.sqlite',
        configured: { url: 'postgres://tw:***@db.example/capture' },
        restartRequired: true,
        editable: true,
        lastError: null,
      },
    })
    expect(JSON.stringify(set)).not.toContain(PASSWORD)
    await expect(api.handle('store.set', { url: null })).resolves.toMatchObject({ ok: true, value: { configured: null, restartRequired: false } })
    expect(choice.saved).toEqual([`postgres://tw:${PASSWORD}@db.example/capture`, null])
  })

  it('reports a PostgreSQL store in use with its password masked, even if its location carried it', async () => {
    const { api } = apiFor(`postgres://tw:${PASSWORD}@db.example/capture`, { storeKind: 'postgres', storeChoice: memoryChoice(null) })
    const answer = await api.handle('store.get', {})
    expect(answer).toMatchObject({ ok: true, value: { kind: 'postgres', location: 'postgres://tw:***@db.example/capture' } })
    expect(JSON.stringify(answer)).not.toContain(PASSWORD)
  })

  it('refuses what is not a PostgreSQL URL, saying what to type and never what was typed', async () => {
    const choice = memoryChoice(null)
    const { api } = apiFor('/data/tidewatch.sqlite', { storeKind: 'sqlite', storeChoice: choice })
    const cases: [unknown, RegExp][] = [
      [`mysql://root:${PASSWORD}@db.example/x`, /postgres:\/\/ or postgresql:\/\//],
      [`postgres//tw:${PASSWORD}@db.example`, /Not a valid URL/],
      ['   ', /Enter a PostgreSQL URL/],
      [`https://tw:${PASSWORD}@db.example/`, /postgres:\/\//],
    ]
    for (const [url, message] of cases) {
      const answer = await api.handle('store.set', { url })
      expect(answer).toMatchObject({ ok: false, error: { code: 'invalid_request', field: 'url', message: expect.stringMatching(message) } })
      expect(JSON.stringify(answer)).not.toContain(PASSWORD)
    }
    await expect(api.handle('store.set', {})).resolves.toMatchObject({ ok: false, error: { code: 'invalid_request', field: 'url' } })
    expect(choice.saved).toEqual([])
  })

  it('restarts the app when asked', async () => {
    let restarts = 0
    const { api } = apiFor('/data/tidewatch.sqlite', { storeChoice: memoryChoice(null), restart: () => void restarts++ })
    await expect(api.handle('app.restart', {})).resolves.toEqual({ ok: true, value: { restarting: true } })
    expect(restarts).toBe(1)
  })
})

describe('store commands in headless mode', () => {
  it('reports the store given on the command line, read-only', async () => {
    const { api } = apiFor('postgres://tw:***@db.example/capture', { storeKind: 'postgres' })
    await expect(api.handle('store.get', {})).resolves.toEqual({
      ok: true,
      value: {
        kind: 'postgres',
        location: 'postgres://tw:***@db.example/capture',
        configured: { url: 'postgres://tw:***@db.example/capture' },
        restartRequired: false,
        editable: false,
        lastError: null,
      },
    })
    const sqlite = apiFor('/srv/tidewatch/tidewatch.sqlite', {})
    await expect(sqlite.api.handle('store.get', {})).resolves.toMatchObject({
      ok: true,
      value: { kind: 'sqlite', location: '/srv/tidewatch/tidewatch.sqlite', configured: null, editable: false },
    })
  })

  it('answers store.set and app.restart with what to do instead', async () => {
    const { api, logged } = apiFor('/srv/tidewatch/tidewatch.sqlite', {})
    await expect(api.handle('store.set', { url: `postgres://tw:${PASSWORD}@db.example/capture` })).resolves.toEqual({
      ok: false,
      error: { code: 'invalid_request', field: 'url', message: expect.stringContaining('tidewatch serve --store') },
    })
    await expect(api.handle('store.set', { url: null })).resolves.toMatchObject({ ok: false, error: { message: expect.stringContaining('--store') } })
    await expect(api.handle('app.restart', {})).resolves.toMatchObject({
      ok: false,
      error: { code: 'invalid_request', message: expect.stringMatching(/headless/) },
    })
    // A person's mistake, not the engine's: nothing for the log.
    expect(logged).toEqual([])
  })
})
