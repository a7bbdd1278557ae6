/**
 * What the fuzz suites aim at: the built `tidewatch serve`, as users run it, in front of a
 * scripted upstream whose URL carries an API key. Gives the seed (fixed, printed,
 * overridable with FUZZ_SEED), a health check to run after every batch (the process is
 * alive, `GET /` answers 200, a `/v1/stream` ping gets its pong), and the secrets no answer
 * may ever contain.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect } from 'vitest'
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider'
import { startServe, type ServeProcess } from '../helpers/headless-process'
import { rawExchange } from '../helpers/raw-http'
import { StreamClient } from '../helpers/stream-client'

export const DEFAULT_FUZZ_SEED = 20261206

/** The run's seed: FUZZ_SEED when set, else the fixed default; printed so a failure can be replayed. */
export function fuzzSeed(suite: string): number {
  const raw = process.env.FUZZ_SEED
  const seed = raw === undefined || raw === '' ? DEFAULT_FUZZ_SEED : Number(raw)
  if (!Number.isSafeInteger(seed)) throw new Error(`FUZZ_SEED must be an integer, got ${JSON.stringify(raw)}`)
  console.log(`${suite}: fuzz seed ${seed} (replay with FUZZ_SEED=${seed})`)
  return seed
}

/** Looks like a provider key, so that Tidewatch's URL masking applies to it. */
export const UPSTREAM_KEY = 'Fz9kQ2xW7mB4nR8tY1uV6cE3hJ5aL0pD'

export interface FuzzTarget {
  serve: ServeProcess
  port: number
  wsBase: string
  token: string
  upstream: FakeProvider
  /** Strings that must never appear in anything Tidewatch sends. */
  secrets: string[]
  /** Fails the test unless the process is alive, `GET /` is 200 and a `/v1/stream` ping gets its pong. */
  expectHealthy(after: string): Promise<void>
  close(): Promise<void>
}

export async function startFuzzTarget(): Promise<FuzzTarget> {
  const upstream = await startFakeProvider()
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-fuzz-'))
  const serve = await startServe(['--rpc', `${upstream.url}/v2/${UPSTREAM_KEY}`], dataDir)
  const port = Number(new URL(serve.baseUrl).port)
  let pings = 0
  return {
    serve,
    port,
    wsBase: serve.baseUrl.replace(/^http/, 'ws'),
    token: serve.token,
    upstream,
    secrets: [serve.token, UPSTREAM_KEY],
    async expectHealthy(after) {
      expect(serve.alive(), `tidewatch serve ended after ${after}:\n${serve.output().slice(-2000)}`).toBe(true)
      const index = await rawExchange(port, `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`)
      expect(index.status, `GET / after ${after}`).toBe(200)
      const client = await StreamClient.connect(serve.baseUrl, serve.token)
      try {
        const reqId = `health-${++pings}`
        client.send({ type: 'ping', req_id: reqId, data: {} })
        await client.until(`pong after ${after}`, (messages) => messages.some((m) => m.type === 'pong' && m.req_id === reqId), 10_000)
      } finally {
        client.close()
      }
    },
    async close() {
      await serve.kill('SIGTERM')
      await upstream.close()
      fs.rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** The first secret the text contains, or null. */
export function leakedSecret(text: string, secrets: string[]): string | null {
  return secrets.find((secret) => text.includes(secret)) ?? null
}
