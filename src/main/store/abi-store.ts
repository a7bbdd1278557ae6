/** The person's ABIs, kept as the parsed events (so a bad paste never reaches the decoder). */
import type { AbiEvent } from 'viem'
import { humanReadableEvent } from '../decode/abi-input'
import type { AbiEntry } from '../../shared/contract'
import type { Db } from './database'

/** An abis row as both databases hold it (the PostgreSQL mirror keeps rows in this shape too). */
export interface AbiRow {
  id: number
  name: string
  abi_json: string
  created_at: number
}

export interface StoredAbi {
  id: number
  name: string
  events: AbiEvent[]
  createdAt: number
}

/** What the engine may call on saved ABIs, whichever database holds them: every public method of AbiStore. */
export type AbiStoreApi = Pick<AbiStore, keyof AbiStore>

export class AbiStore {
  constructor(private readonly db: Db) {}

  all(): StoredAbi[] {
    return (this.db.prepare('SELECT id, name, abi_json, created_at FROM abis ORDER BY id').all() as AbiRow[]).map(abiFromRow)
  }

  list(): AbiEntry[] {
    return this.all().map(abiEntry)
  }

  add(name: string, events: AbiEvent[]): AbiEntry {
    const createdAt = Date.now()
    const id = Number(
      this.db.prepare('INSERT INTO abis (name, abi_json, created_at) VALUES (?, ?, ?)').run(name, JSON.stringify(events), createdAt).lastInsertRowid,
    )
    return abiEntry({ id, name, events, createdAt })
  }

  remove(id: number): boolean {
    return this.db.prepare('DELETE FROM abis WHERE id = ?').run(id).changes > 0
  }
}

export function abiFromRow(row: AbiRow): StoredAbi {
  return { id: row.id, name: row.name, events: JSON.parse(row.abi_json) as AbiEvent[], createdAt: row.created_at }
}

/** An ABI as the person sees it: each event in human-readable form. */
export function abiEntry(abi: StoredAbi): AbiEntry {
  return { id: abi.id, name: abi.name, events: abi.events.map(humanReadableEvent), createdAt: abi.createdAt }
}
