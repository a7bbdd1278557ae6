/**
 * `/v1/rpc` as `tidewatch serve` serves it (the built bundle through the bin), in front of
 * a separately started anvil: the token rule at the upgrade, a forwarded call, and a
 * subscription delivering new heads.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startAnvil, type AnvilProcess } from '../src/main/demo/anvil-process'
import { startServe, type ServeProcess } from './helpers/headless-process'
import { RpcTestClient } from './helpers/rpc-client'
import { refusedUpgradeStatus } from './helpers/upgrade-status'

let anvil: AnvilProcess
let serve: ServeProcess
let dataDir: string
beforeAll(async () => {
  anvil = await startAnvil({ blockTime: 1 })
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-rpc-serve-'))
  serve = await startServe(['--rpc', anvil.wsUrl], dataDir)
})
afterAll(async () => {
  await serve?.kill('SIGTERM')
  await anvil?.stop()
  fs.rmSync(dataDir, { recursive: true, force: true })
})

describe('tidewatch serve: /v1/rpc', () => {
  it('refuses an upgrade without the token with 401', async () => {
    const status = await refusedUpgradeStatus(new URL('/v1/rpc', serve.baseUrl.replace(/^http/, 'ws')))
    expect(status).toBe(401)
  })

  it('forwards calls to the upstream and delivers newHeads with the token', async () => {
    const url = new URL('/v1/rpc', serve.baseUrl.replace(/^http/, 'ws'))
    url.searchParams.set('token', serve.token)
    const client = await RpcTestClient.connect(url.toString())
    try {
      // anvil's default chain id, 31337.
      expect(await client.call('eth_chainId')).toEqual({ jsonrpc: '2.0', id: 1, result: '0x7a69' })
      const id = await client.subscribe('newHeads')
      const [head] = (await client.untilResults(id, 1, 20_000)) as { hash: string; number: string }[]
      expect(head!.hash).toMatch(/^0x[0-9a-f]{64}$/)
      expect((await client.call('eth_unsubscribe', [id])).result).toBe(true)
    } finally {
      client.close()
    }
  })
})
