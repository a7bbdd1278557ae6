/** The person's ABIs on PostgreSQL (AbiStore's methods and answers, ../abi-store.ts): read from memory, written through in order (config-writer.ts). */
import type { AbiEvent } from 'viem'
import type { AbiEntry } from '../../../shared/contract'
import { abiEntry, abiFromRow, type AbiRow, type AbiStoreApi, type StoredAbi } from '../abi-store'
import type { ConfigMirror } from './config-mirror'
import type { ConfigWriter } from './config-writer'
import type { IdBlock } from './id-blocks'

export class PostgresAbiStore implements AbiStoreApi {
  constructor(
    private readonly mirror: ConfigMirror,
    private readonly writer: ConfigWriter,
    private readonly ids: IdBlock,
  ) {}

  all(): StoredAbi[] {
    return [...this.mirror.abis.values()].sort((a, b) => a.id - b.id).map(abiFromRow)
  }

  list(): AbiEntry[] {
    return this.all().map(abiEntry)
  }

  add(name: string, events: AbiEvent[]): AbiEntry {
    const id = this.ids.take('add an ABI')
    const row: AbiRow = { id, name, abi_json: JSON.stringify(events), created_at: Date.now() }
    this.writer.write({
      what: `add ABI ${id}`,
      tables: ['abis'],
      changes: [{ table: 'abis', apply: () => this.mirror.abis.set(id, row) }],
      run: async (client) => {
        await client.query('INSERT INTO abis (id, name, abi_json, created_at) VALUES ($1, $2, $3, $4)', [id, row.name, row.abi_json, row.created_at])
      },
    })
    return abiEntry({ id, name, events, createdAt: row.created_at })
  }

  remove(id: number): boolean {
    const held = this.mirror.abis.has(id)
    this.writer.write({
      what: `remove ABI ${id}`,
      tables: ['abis'],
      changes: [{ table: 'abis', apply: () => this.mirror.abis.delete(id) }],
      run: async (client) => {
        await client.query('DELETE FROM abis WHERE id = $1', [id])
      },
    })
    return held
  }
}
