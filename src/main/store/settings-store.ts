/** Small persisted settings, one JSON value per key, validated on the way out. */
import type { z } from 'zod'
import type { Db } from './database'

/** What the engine may call on settings, whichever database holds them: every public method of SettingsStore. */
export type SettingsStoreApi = Pick<SettingsStore, keyof SettingsStore>

export class SettingsStore {
  constructor(private readonly db: Db) {}

  get<T>(key: string, schema: z.ZodType<T>, fallback: T): T {
    const row = this.db.prepare('SELECT value_json FROM settings WHERE key = ?').get(key) as { value_json: string } | undefined
    return settingValue(row?.value_json, schema, fallback)
  }

  set(key: string, value: unknown): void {
    this.db
      .prepare('INSERT INTO settings (key, value_json) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value_json = excluded.value_json')
      .run(key, JSON.stringify(value))
  }
}

/** A stored value (JSON text; undefined: none stored) as `schema` says, or `fallback` when none is stored or it does not fit. */
export function settingValue<T>(valueJson: string | undefined, schema: z.ZodType<T>, fallback: T): T {
  if (valueJson === undefined) return fallback
  const parsed = schema.safeParse(JSON.parse(valueJson))
  return parsed.success ? parsed.data : fallback
}
