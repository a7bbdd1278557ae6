/** The logs bloom test against real blocks from anvil: what a block logged is in its bloom; what it did not is (almost always) not. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pad } from 'viem'
import { deployEmitters, emitCalldata, TICK_TOPIC } from '../../../test/helpers/log-emitter'
import { startAnvil, type AnvilProcess } from '../demo/anvil-process'
import { bloomMayMatch } from './logs-bloom'

let anvil: AnvilProcess
const request = async <T>(method: string, params: unknown[]): Promise<T> => {
  const response = await fetch(anvil.httpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  })
  const body = (await response.json()) as { result?: T; error?: unknown }
  if (body.error) throw new Error(`${method}: ${JSON.stringify(body.error)}`)
  return body.result as T
}

beforeAll(async () => {
  anvil = await startAnvil({ extraArgs: ['--no-mining'] })
})
afterAll(async () => {
  await anvil?.stop()
})

describe('bloomMayMatch on anvil blocks', () => {
  it('finds every address and topic a block logged, and rejects ones it did not', async () => {
    const [from] = await request<string[]>('eth_accounts', [])
    const [logging, silent] = await deployEmitters(request, from!, 2)
    await request('eth_sendTransaction', [{ from, to: logging, data: emitCalldata(3), gas: '0x100000' }])
    await request('evm_mine', [])
    const block = await request<{ number: string; logsBloom: string }>('eth_getBlockByNumber', ['latest', false])
    const logs = await request<{ address: string; topics: string[] }[]>('eth_getLogs', [{ fromBlock: block.number, toBlock: block.number }])
    expect(logs).toHaveLength(3)
    expect(logs.map((l) => l.topics[1])).toEqual([3, 2, 1].map((i) => pad(`0x${i}`)))

    const bloom = block.logsBloom
    expect(bloomMayMatch(bloom, { address: [logging!] })).toBe(true)
    expect(bloomMayMatch(bloom, { topics: [[TICK_TOPIC], [pad('0x2')]] })).toBe(true)
    expect(bloomMayMatch(bloom, { address: [silent!, logging!], topics: [null, [pad('0x1'), pad('0x99')]] })).toBe(true)
    // Another contract, another event, another indexed value: not in this block.
    expect(bloomMayMatch(bloom, { address: [silent!] })).toBe(false)
    expect(bloomMayMatch(bloom, { topics: [[pad('0x1234')]] })).toBe(false)
    expect(bloomMayMatch(bloom, { address: [logging!], topics: [[TICK_TOPIC], [pad('0x7')]] })).toBe(false)
    // No filter: anything may match.
    expect(bloomMayMatch(bloom, {})).toBe(true)
  })
})
