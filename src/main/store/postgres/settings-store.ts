/** Small persisted settings on PostgreSQL (SettingsStore's methods and answers, ../settings-store.ts): read from memory, written through in order (config-writer.ts). */
import type { z } from 'zod'
import { settingValue, type SettingsStoreApi } from '../settings-store'
import type { ConfigMirror } from './config-mirror'
import type { ConfigWriter } from './config-writer'

export class PostgresSettingsStore implements SettingsStoreApi {
  constructor(
    private readonly mirror: ConfigMirror,
    private readonly writer: ConfigWriter,
  ) {}

  get<T>(key: string, schema: z.ZodType<T>, fallback: T): T {
    return settingValue(this.mirror.settings.get(key), schema, fallback)
  }

  set(key: string, value: unknown): void {
    const valueJson = JSON.stringify(value)
    this.writer.write({
      what: `save setting ${key}`,
      tables: ['settings'],
      changes: [{ table: 'settings', apply: () => this.mirror.settings.set(key, valueJson) }],
      run: async (client) => {
        await client.query('INSERT INTO settings (key, value_json) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value_json = excluded.value_json', [
          key,
          valueJson,
        ])
      },
    })
  }
}
