/**
 * The desktop app's choice of store (issue 13): the data directory's SQLite file (the
 * default), or a PostgreSQL store shared with other Tidewatch instances. It is kept in
 * `store.json` in the data directory (mode 0600), the URL sealed by the app's SecretBox
 * because it may carry a password; no file means the embedded store. A change takes effect
 * at the next start. A choice that cannot be read, or a store that cannot be opened, leaves
 * the app on the embedded store, and the reason goes to the log and to Settings (store.get).
 * Headless mode has no such file: `tidewatch serve --store` chooses.
 */
import fs from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { storeUrlSchema } from '../../shared/contract'
import type { StoreChoiceController } from '../api/store-controller'
import { errorText } from '../error-text'
import { makeFilePrivate, PRIVATE_FILE_MODE } from '../private-files'
import { redactSecretsIn, redactUrl } from '../redact-url'
import type { EngineStoreFactory } from '../store/engine-store'
import type { SecretBox } from '../store/secret-box'

export const STORE_CHOICE_FILE = 'store.json'

const fileSchema = z.object({ version: z.literal(1), kind: z.literal('postgres'), sealedUrl: z.string().min(1) })

export interface StoreChoice {
  /** The chosen PostgreSQL URL, password included; null: the embedded SQLite store. */
  url: string | null
  /** Why store.json could not be read (the embedded store is used then); null when it could, or is absent. */
  problem: string | null
}

export function storeChoiceFile(dataDir: string): string {
  return path.join(dataDir, STORE_CHOICE_FILE)
}

/** Reads the choice; never throws: whatever is wrong with the file is said in `problem`, and the choice is then the embedded store. */
export function readStoreChoice(dataDir: string, secrets: SecretBox): StoreChoice {
  const file = storeChoiceFile(dataDir)
  const embeddedBecause = (reason: string): StoreChoice => ({
    url: null,
    problem: `${reason}; Tidewatch uses the embedded store (the SQLite file in the data directory). Choose the store again in Settings > Store.`,
  })
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { url: null, problem: null }
    return embeddedBecause(`The store choice ${file} cannot be read (${errorText(error)})`)
  }
  let content: z.infer<typeof fileSchema>
  try {
    content = fileSchema.parse(JSON.parse(text))
  } catch {
    return embeddedBecause(`The store choice ${file} is damaged (not the JSON Tidewatch writes there)`)
  }
  let url: string
  try {
    url = secrets.decrypt(content.sealedUrl)
  } catch (error) {
    return embeddedBecause(
      `The PostgreSQL URL in ${file} cannot be decrypted (${errorText(error)}); was it written by another user account or on another machine?`,
    )
  }
  const checked = storeUrlSchema.safeParse(url)
  if (!checked.success) return embeddedBecause(`The URL in ${file} is not a PostgreSQL URL`)
  // The file holds a password: a copy loosened by hand is tightened, like the key file.
  try {
    makeFilePrivate(file)
  } catch {
    // Reading it did not depend on its mode; the next save writes it private again.
  }
  return { url: checked.data, problem: null }
}

/** Saves the choice for the next start (mode 0600, replaced whole); null removes the file: the embedded store. */
export function writeStoreChoice(dataDir: string, secrets: SecretBox, url: string | null): void {
  const file = storeChoiceFile(dataDir)
  if (url === null) {
    fs.rmSync(file, { force: true })
    return
  }
  const content: z.infer<typeof fileSchema> = { version: 1, kind: 'postgres', sealedUrl: secrets.encrypt(url) }
  const temporary = `${file}.${process.pid}.tmp`
  // Created anew, so it is private from its first byte whatever an earlier attempt left.
  fs.rmSync(temporary, { force: true })
  try {
    fs.writeFileSync(temporary, `${JSON.stringify(content, null, 2)}\n`, { mode: PRIVATE_FILE_MODE, flag: 'wx' })
    fs.renameSync(temporary, file)
  } catch (error) {
    fs.rmSync(temporary, { force: true })
    throw new Error(`Cannot save the store choice in ${file}: ${errorText(error)}`)
  }
}

/** The store this start runs on. */
export interface OpenedStore {
  /** For startTidewatch: the chosen PostgreSQL store, opened; undefined: the embedded SQLite store. */
  store: EngineStoreFactory | undefined
  /** The URL of the store in use (password included); null: the embedded store. */
  url: string | null
  /** Why the chosen store is not the one in use; null when nothing went wrong. */
  error: string | null
}

/** The embedded store, after the chosen one failed: the reason, with the URL's password masked, goes to the log. */
export function embeddedInsteadOf(url: string, error: unknown, log: (message: string) => void): OpenedStore {
  const reason = redactSecretsIn(errorText(error), url)
  const message = `Could not open the PostgreSQL store ${redactUrl(url)}: ${reason}. Tidewatch uses the embedded store (the SQLite file in the data directory) until it opens; check the URL in Settings > Store and restart.`
  log(message)
  return { store: undefined, url: null, error: message }
}

/** Opens the chosen store with `open` (the PostgreSQL store's opener); falls back to the embedded store, saying why. */
export async function openChosenStore(
  choice: StoreChoice,
  deps: { open: (url: string) => Promise<EngineStoreFactory>; log: (message: string) => void },
): Promise<OpenedStore> {
  if (choice.problem) {
    deps.log(choice.problem)
    return { store: undefined, url: null, error: choice.problem }
  }
  if (choice.url === null) return { store: undefined, url: null, error: null }
  try {
    deps.log(`opening the PostgreSQL store ${redactUrl(choice.url)}`)
    return { store: await deps.open(choice.url), url: choice.url, error: null }
  } catch (error) {
    return embeddedInsteadOf(choice.url, error, deps.log)
  }
}

/** store.get and store.set on the desktop: the saved choice against the store in use. */
export function storeChoiceController(options: { dataDir: string; secrets: SecretBox; choice: StoreChoice; opened: OpenedStore }): StoreChoiceController {
  let saved = options.choice.url
  // About this start's choice: a new choice replaces it.
  let lastError = options.opened.error
  return {
    current: () => ({
      configured: saved === null ? null : { url: redactUrl(saved) },
      restartRequired: saved !== options.opened.url,
      lastError,
    }),
    save(url) {
      writeStoreChoice(options.dataDir, options.secrets, url)
      saved = url
      lastError = null
    },
  }
}
