/**
 * This machine's own settings (window bounds, the local API, preferences) when the store is
 * shared: a shared PostgreSQL must not carry one desktop's window position to every instance,
 * so they live in `settings.json` in the data directory instead (private mode, replaced
 * whole on each write, so a crash leaves the old file or the new one).
 */
import fs from 'node:fs'
import path from 'node:path'
import type { z } from 'zod'
import { makeFilePrivate, PRIVATE_FILE_MODE } from '../private-files'
import { settingValue, type SettingsStoreApi } from './settings-store'

export const SETTINGS_FILE = 'settings.json'

export class FileSettingsStore implements SettingsStoreApi {
  private readonly file: string
  private readonly values = new Map<string, string>()

  /** `log` hears of a damaged file, which is then set aside and started afresh. */
  constructor(dataDir: string, log: (message: string) => void) {
    this.file = path.join(dataDir, SETTINGS_FILE)
    if (!fs.existsSync(this.file)) return
    makeFilePrivate(this.file)
    try {
      const parsed = JSON.parse(fs.readFileSync(this.file, 'utf8')) as unknown
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object')
      for (const [key, value] of Object.entries(parsed)) this.values.set(key, JSON.stringify(value))
    } catch (error) {
      const aside = `${this.file}.damaged-${Date.now()}`
      fs.renameSync(this.file, aside)
      log(
        `settings: ${this.file} could not be read (${error instanceof Error ? error.message : String(error)}); it was moved to ${aside} and the defaults apply`,
      )
    }
  }

  get<T>(key: string, schema: z.ZodType<T>, fallback: T): T {
    return settingValue(this.values.get(key), schema, fallback)
  }

  set(key: string, value: unknown): void {
    this.values.set(key, JSON.stringify(value))
    const content = `{${[...this.values].map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}\n`
    const temporary = `${this.file}.${process.pid}.tmp`
    fs.writeFileSync(temporary, content, { mode: PRIVATE_FILE_MODE })
    fs.renameSync(temporary, this.file)
  }
}
