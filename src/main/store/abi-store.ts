/** The person's ABIs, kept as the parsed events (so a bad paste never reaches the decoder). */
import type { AbiEvent } from 'viem'
import { humanReadableEvent } from '../decode/abi-input'
import type { AbiEntry } from '../../shared/contract'
import type { Db } from './database'

export class AbiStore {
  constructor(private readonly db: Db) {}

  all(): { id: number; name: string; events: AbiEvent[]; createdAt: number }[] {
    const rows = this.db.prepare('SELECT id, name, abi_json, created_at FROM abis ORDER BY id').all() as {
      id: number
      name: string
      abi_json: string
      created_at: number
    }[]
    return rows.map((r) => ({ id: r.id, name: r.name, events: JSON.parse(r.abi_json) as AbiEvent[], createdAt: r.created_at }))
  }

  list(): AbiEntry[] {
    return this.all().map((a) => ({ id: a.id, name: a.name, events: a.events.map(humanReadableEvent), createdAt: a.createdAt }))
  }

  add(name: string, events: AbiEvent[]): AbiEntry {
    const createdAt = Date.now()
    const id = Number(
      this.db.prepare('INSERT INTO abis (name, abi_json, created_at) VALUES (?, ?, ?)').run(name, JSON.stringify(events), createdAt).lastInsertRowid,
    )
    return { id, name, events: events.map(humanReadableEvent), createdAt }
  }

  remove(id: number): boolean {
    return this.db.prepare('DELETE FROM abis WHERE id = ?').run(id).changes > 0
  }
}
