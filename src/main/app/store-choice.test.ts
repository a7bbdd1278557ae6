/**
 * The desktop's store choice: sealed in store.json (mode 0600), read back, and a file or a
 * store that fails leaves the app on the embedded store with the reason, never a password.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { EngineStoreFactory } from '../store/engine-store'
import { createKeyFileSecretBox, type SecretBox } from '../store/secret-box'
import { openChosenStore, readStoreChoice, STORE_CHOICE_FILE, storeChoiceController, writeStoreChoice } from './store-choice'

const PASSWORD = 's3cret-Pa55word'
const URL_WITH_PASSWORD = `postgres://tidewatch:${PASSWORD}@db.example:5432/capture`
const MASKED = 'postgres://tidewatch:***@db.example:5432/capture'

let dataDir: string
let secrets: SecretBox
const modeOf = (file: string): string => (fs.statSync(file).mode & 0o777).toString(8)

beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-store-choice-'))
  secrets = createKeyFileSecretBox(dataDir)
})
afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }))

describe('store.json', () => {
  it('is absent at first: the embedded store, nothing wrong', () => {
    expect(readStoreChoice(dataDir, secrets)).toEqual({ url: null, problem: null })
  })

  it('keeps the URL sealed, private, and reads it back', () => {
    writeStoreChoice(dataDir, secrets, URL_WITH_PASSWORD)
    const file = path.join(dataDir, STORE_CHOICE_FILE)
    expect(modeOf(file)).toBe('600')
    const text = fs.readFileSync(file, 'utf8')
    expect(text).not.toContain(PASSWORD)
    expect(text).not.toContain('db.example')
    expect(JSON.parse(text)).toMatchObject({ version: 1, kind: 'postgres', sealedUrl: expect.stringMatching(/^v1:/) })
    expect(readStoreChoice(dataDir, secrets)).toEqual({ url: URL_WITH_PASSWORD, problem: null })
    // No temporary file is left behind.
    expect(fs.readdirSync(dataDir).filter((name) => name.startsWith(STORE_CHOICE_FILE))).toEqual([STORE_CHOICE_FILE])
  })

  it('is replaced whole by a new choice and removed by the embedded one', () => {
    writeStoreChoice(dataDir, secrets, URL_WITH_PASSWORD)
    writeStoreChoice(dataDir, secrets, 'postgresql://viewer@other.example/shared')
    expect(readStoreChoice(dataDir, secrets).url).toBe('postgresql://viewer@other.example/shared')
    writeStoreChoice(dataDir, secrets, null)
    expect(fs.existsSync(path.join(dataDir, STORE_CHOICE_FILE))).toBe(false)
    expect(readStoreChoice(dataDir, secrets)).toEqual({ url: null, problem: null })
  })

  it('tightens a copy loosened by hand when it is read', () => {
    writeStoreChoice(dataDir, secrets, URL_WITH_PASSWORD)
    const file = path.join(dataDir, STORE_CHOICE_FILE)
    fs.chmodSync(file, 0o644)
    readStoreChoice(dataDir, secrets)
    expect(modeOf(file)).toBe('600')
  })

  it('says a damaged file is damaged, names it, and falls back to the embedded store', () => {
    const file = path.join(dataDir, STORE_CHOICE_FILE)
    fs.writeFileSync(file, '{"version": 1, "kind": "postgres", "sealedUrl": ')
    const choice = readStoreChoice(dataDir, secrets)
    expect(choice.url).toBeNull()
    expect(choice.problem).toContain(file)
    expect(choice.problem).toMatch(/damaged/)
    expect(choice.problem).toMatch(/embedded store/)

    fs.writeFileSync(file, JSON.stringify({ version: 2, url: URL_WITH_PASSWORD }))
    expect(readStoreChoice(dataDir, secrets)).toMatchObject({ url: null, problem: expect.stringMatching(/damaged/) })
  })

  it('says a URL sealed with another key cannot be decrypted, without its content', () => {
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-store-choice-other-'))
    try {
      writeStoreChoice(dataDir, createKeyFileSecretBox(elsewhere), URL_WITH_PASSWORD)
    } finally {
      fs.rmSync(elsewhere, { recursive: true, force: true })
    }
    const choice = readStoreChoice(dataDir, secrets)
    expect(choice).toMatchObject({ url: null, problem: expect.stringMatching(/cannot be decrypted/) })
  })

  it('refuses a sealed URL that is not a PostgreSQL one, without repeating it', () => {
    const file = path.join(dataDir, STORE_CHOICE_FILE)
    fs.writeFileSync(file, JSON.stringify({ version: 1, kind: 'postgres', sealedUrl: secrets.encrypt(`mysql://root:${PASSWORD}@db/x`) }))
    const choice = readStoreChoice(dataDir, secrets)
    expect(choice).toMatchObject({ url: null, problem: expect.stringMatching(/not a PostgreSQL URL/) })
    expect(choice.problem).not.toContain(PASSWORD)
  })
})

describe('opening the chosen store', () => {
  const factory: EngineStoreFactory = () => {
    throw new Error('not called here')
  }

  it('opens nothing for the embedded store', async () => {
    const opened: string[] = []
    const result = await openChosenStore({ url: null, problem: null }, { open: async (url) => (opened.push(url), factory), log: () => undefined })
    expect(result).toEqual({ store: undefined, url: null, error: null })
    expect(opened).toEqual([])
  })

  it('hands the opener the URL with its password and logs it masked', async () => {
    const lines: string[] = []
    const opened: string[] = []
    const result = await openChosenStore(
      { url: URL_WITH_PASSWORD, problem: null },
      { open: async (url) => (opened.push(url), factory), log: (l) => lines.push(l) },
    )
    expect(opened).toEqual([URL_WITH_PASSWORD])
    expect(result).toEqual({ store: factory, url: URL_WITH_PASSWORD, error: null })
    expect(lines.join('\n')).toContain(MASKED)
    expect(lines.join('\n')).not.toContain(PASSWORD)
  })

  it('falls back to the embedded store when the opener fails, saying why without the password', async () => {
    const lines: string[] = []
    const result = await openChosenStore(
      { url: URL_WITH_PASSWORD, problem: null },
      {
        open: async (url) => {
          throw new Error(`connect ECONNREFUSED 10.0.0.5:5432 (${url})`)
        },
        log: (l) => lines.push(l),
      },
    )
    expect(result.store).toBeUndefined()
    expect(result.url).toBeNull()
    expect(result.error).toContain('ECONNREFUSED')
    expect(result.error).toContain(MASKED)
    expect(result.error).not.toContain(PASSWORD)
    expect(lines).toContain(result.error)
  })

  it('falls back with the file problem, logged, without calling the opener', async () => {
    const lines: string[] = []
    let called = false
    const problem = 'The store choice /x/store.json is damaged; …'
    const result = await openChosenStore(
      { url: null, problem },
      {
        open: async () => {
          called = true
          return factory
        },
        log: (l) => lines.push(l),
      },
    )
    expect(called).toBe(false)
    expect(result).toEqual({ store: undefined, url: null, error: problem })
    expect(lines).toEqual([problem])
  })
})

describe('the desktop controller', () => {
  it('compares the saved choice with the store in use, masks it, and clears the start error on a new choice', () => {
    const controller = storeChoiceController({
      dataDir,
      secrets,
      choice: { url: URL_WITH_PASSWORD, problem: null },
      opened: { store: undefined, url: null, error: 'Could not open the PostgreSQL store …' },
    })
    expect(controller.current()).toEqual({ configured: { url: MASKED }, restartRequired: true, lastError: 'Could not open the PostgreSQL store …' })
    controller.save(null)
    expect(controller.current()).toEqual({ configured: null, restartRequired: false, lastError: null })
    expect(readStoreChoice(dataDir, secrets).url).toBeNull()
    controller.save(URL_WITH_PASSWORD)
    expect(controller.current()).toEqual({ configured: { url: MASKED }, restartRequired: true, lastError: null })
    expect(readStoreChoice(dataDir, secrets).url).toBe(URL_WITH_PASSWORD)
  })

  it('needs no restart when the saved store is the one in use', () => {
    const factory: EngineStoreFactory = () => {
      throw new Error('not called here')
    }
    const controller = storeChoiceController({
      dataDir,
      secrets,
      choice: { url: URL_WITH_PASSWORD, problem: null },
      opened: { store: factory, url: URL_WITH_PASSWORD, error: null },
    })
    expect(controller.current().restartRequired).toBe(false)
  })
})
