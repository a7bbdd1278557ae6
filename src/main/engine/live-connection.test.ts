import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { SqliteChainStore } from '../store/sqlite-chain-store'
import { openDatabase } from '../store/database'
import { notify, reply, startScriptedServer, waitFor, type ScriptedServer } from '../../../test/helpers/scripted-server'
import type { ParsedHead } from './head-parser'
import { LiveConnection } from './live-connection'

const header = (n: number) => ({
  number: `0x${n.toString(16)}`,
  hash: `0x${n.toString(16).padStart(64, 'a')}`,
  parentHash: `0x${(n - 1).toString(16).padStart(64, 'a')}`,
  timestamp: '0x6553f100',
  gasUsed: '0x5208',
  gasLimit: '0x1c9c380',
  baseFeePerGas: '0x7',
})

let server: ScriptedServer | undefined
let connection: LiveConnection | undefined
afterEach(async () => {
  await connection?.stop()
  await server?.close()
  connection = server = undefined
})

describe('LiveConnection', () => {
  it('reports a malformed header without dropping the connection, and keeps the next one', async () => {
    server = await startScriptedServer((request, socket) => {
      if (request.method !== 'eth_subscribe') return reply(socket, request.id, '0x3')
      reply(socket, request.id, '0xs')
      notify(socket, '0xs', { number: 'twelve' })
      notify(socket, '0xs', header(5))
    })
    const logs: string[] = []
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-live-'))
    const db = openDatabase(path.join(dir, 'db.sqlite'))
    db.prepare("INSERT INTO connections (id, name, kind, url_ciphertext, display_url, created_at) VALUES (2, 'x', 'user', 'x', 'x', 0)").run()
    connection = new LiveConnection({ id: 2, url: server.url, httpUrl: null, chainStore: new SqliteChainStore(db, 2), log: (m) => logs.push(m) })
    const heads: ParsedHead[] = []
    const txCounts: number[] = []
    connection.on('head', (head) => heads.push(head))
    connection.on('txCount', (_hash, n) => txCounts.push(n))
    connection.start()
    await waitFor('valid head after the bad one', () => heads.length === 1 && txCounts.length === 1)
    expect(logs.join('\n')).toMatch(/newHeads payload rejected: number: expected a hex quantity/)
    expect(connection.getStatus()).toMatchObject({ state: 'connected', headNumber: 5, sockets: 1, upstreamSubscriptions: 1 })
    expect(txCounts).toEqual([3])
  })

  it('rejects a head whose number or timestamp is beyond 2^53 - 1, logs each problem once and keeps the connection', async () => {
    const huge = '0xffffffffffffffff'
    server = await startScriptedServer((request, socket) => {
      if (request.method !== 'eth_subscribe') return reply(socket, request.id, '0x0')
      reply(socket, request.id, '0xs')
      for (let i = 0; i < 50; i++) {
        notify(socket, '0xs', { ...header(7), number: huge })
        notify(socket, '0xs', { ...header(7), timestamp: huge })
      }
      notify(socket, '0xs', header(8))
    })
    const logs: string[] = []
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-live-'))
    const db = openDatabase(path.join(dir, 'db.sqlite'))
    db.prepare("INSERT INTO connections (id, name, kind, url_ciphertext, display_url, created_at) VALUES (3, 'x', 'user', 'x', 'x', 0)").run()
    connection = new LiveConnection({ id: 3, url: server.url, httpUrl: null, chainStore: new SqliteChainStore(db, 3), log: (m) => logs.push(m) })
    const heads: ParsedHead[] = []
    connection.on('head', (head) => heads.push(head))
    connection.start()
    await waitFor('the valid head after the out-of-range ones', () => heads.length === 1)
    expect(heads[0]).toMatchObject({ number: 8, timestamp: 0x6553f100 })
    const rejected = logs.filter((m) => m.includes('newHeads payload rejected'))
    expect(rejected).toEqual([
      expect.stringMatching(/^\[connection 3\] newHeads payload rejected: number: out of range \(above 9007199254740991/),
      expect.stringMatching(/^\[connection 3\] newHeads payload rejected: timestamp: out of range \(above 9007199254740991/),
    ])
    expect(connection.getStatus()).toMatchObject({ state: 'connected', headNumber: 8, reconnectCount: 0 })
  })
})
