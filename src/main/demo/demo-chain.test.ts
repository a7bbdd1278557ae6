import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { describe, it, expect } from 'vitest'
import { createPublicClient, http, parseAbiItem, toEventSelector } from 'viem'
import { startDemoChain } from './demo-chain'

const execFileAsync = promisify(execFile)
const TRANSFER = parseAbiItem('event Transfer(address indexed from, address indexed to, uint256 value)')
const TIMEOUT_MS = 60_000

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('compile-contracts.mjs', () => {
  it(
    'produces an artifact with the Transfer event and creation bytecode',
    async () => {
      // Compile into a temp dir so the test exercises a real solc run and does
      // not race with other users of build/contracts.
      const dir = await mkdtemp(join(tmpdir(), 'tidewatch-contracts-'))
      try {
        const out = join(dir, 'DemoToken.json')
        const script = resolve(process.cwd(), 'scripts/compile-contracts.mjs')
        await execFileAsync(process.execPath, [script, '--out', out])
        const artifact: unknown = JSON.parse(await readFile(out, 'utf8'))
        expect(artifact).toMatchObject({
          bytecode: expect.stringMatching(/^0x6080/),
          sourceHash: expect.stringMatching(/^[0-9a-f]{64}$/),
        })
        expect(artifact).toHaveProperty(
          'abi',
          expect.arrayContaining([
            expect.objectContaining({
              type: 'event',
              name: 'Transfer',
              inputs: [
                expect.objectContaining({ name: 'from', type: 'address', indexed: true }),
                expect.objectContaining({ name: 'to', type: 'address', indexed: true }),
                expect.objectContaining({ name: 'value', type: 'uint256', indexed: false }),
              ],
            }),
          ]),
        )

        // Second run hits the sourceHash fast path.
        const again = await execFileAsync(process.execPath, [script, '--out', out])
        expect(again.stdout).toContain('up to date')
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    },
    TIMEOUT_MS,
  )
})

describe('demo chain', () => {
  it(
    'runs anvil with token traffic and cleans up the process on stop',
    async () => {
      const errors: Error[] = []
      const chain = await startDemoChain({ blockTime: 1, onError: (e) => errors.push(e) })
      try {
        expect(chain.wsUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/)
        expect(processAlive(chain.pid)).toBe(true)

        const client = createPublicClient({ transport: http(chain.httpUrl) })
        const fetchLogs = () =>
          client.getLogs({
            address: chain.tokenAddress,
            event: TRANSFER,
            fromBlock: chain.deployBlockNumber + 1n,
            toBlock: 'latest',
            strict: true,
          })
        const deadline = Date.now() + 30_000
        let logs = await fetchLogs()
        // Poll until three blocks after the deployment carry token Transfer logs.
        while (new Set(logs.map((l) => l.blockNumber)).size < 3) {
          if (Date.now() > deadline) {
            const why = errors.map((e) => e.message).join('; ')
            throw new Error(`fewer than 3 blocks with Transfer logs after 30 s; traffic errors: ${why}`)
          }
          await new Promise((r) => setTimeout(r, 250))
          logs = await fetchLogs()
        }

        const selector = toEventSelector(TRANSFER)
        for (const log of logs) {
          expect(log.address.toLowerCase()).toBe(chain.tokenAddress.toLowerCase())
          expect(log.topics[0]).toBe(selector)
          expect(log.eventName).toBe('Transfer')
          expect(log.args.from).toMatch(/^0x[0-9a-fA-F]{40}$/)
          expect(log.args.to).toMatch(/^0x[0-9a-fA-F]{40}$/)
          expect(log.args.value).toBeGreaterThan(0n)
        }
        expect(errors).toEqual([])
      } finally {
        await chain.stop()
      }
      expect(processAlive(chain.pid)).toBe(false)
      expect(() => process.kill(chain.pid, 0)).toThrow()
    },
    TIMEOUT_MS,
  )
})
