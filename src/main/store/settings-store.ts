/** Small persisted settings, one JSON value per key, validated on the way out. */
import type { z } from 'zod'
import type { Db } from './database'

export class SettingsStore {
  constructor(private readonly db: Db) {}

  get<T>(key: string, schema: z.ZodType<T>, fallback: T): T {
    const row = this.db.prepare('SELECT value_json FROM settings WHERE key = ?').get(key) as { value_json: string } | undefined
    if (!row) return fallback
    const parsed = schema.safeParse(JSON.parse(row.value_json))
    return parsed.success ? parsed.data : fallback
  }

  set(key: string, value: unknown): void {
    this.db
      .prepare('INSERT INTO settings (key, value_json) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value_json = excluded.value_json')
      .run(key, JSON.stringify(value))
  }
}
