/**
 * Shared e2e helpers: a headless Tidewatch on a fresh data directory and a free port,
 * page helpers keyed on data-testid, and a screenshot check that looks at the pixels.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test as base, expect, type Page } from '@playwright/test'
import { PNG } from 'pngjs'
import WebSocket from 'ws'

export const ARTIFACTS = path.join(process.cwd(), 'e2e', 'artifacts')

export interface HeadlessTidewatch {
  baseUrl: string
  uiUrl: string
  dataDir: string
  output: () => string
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

/** Starts `npm run serve`'s command in its own process group, as a user would. */
export async function startHeadless(args: string[] = []): Promise<HeadlessTidewatch> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-e2e-'))
  const child: ChildProcess = spawn(process.execPath, ['bin/tidewatch.mjs', 'serve', '--data-dir', dataDir, '--port', '0', ...args], {
    cwd: process.cwd(),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const deadline = Date.now() + 90_000
  while (!/Open the user interface: (\S+)/.test(output)) {
    if (child.exitCode !== null) throw new Error(`tidewatch serve exited early:\n${output}`)
    if (Date.now() > deadline) throw new Error(`tidewatch serve did not start:\n${output}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const baseUrl = output.match(/Tidewatch listening on (http:\/\/\S+)/)![1]!
  const uiUrl = output.match(/Open the user interface: (\S+)/)![1]!
  return {
    baseUrl,
    uiUrl,
    dataDir,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) process.kill(-child.pid!, signal)
      const code = await exited
      fs.rmSync(dataDir, { recursive: true, force: true })
      return code
    },
  }
}

/** One command of the contract over the UI socket, as the app itself speaks it: to check the store. */
export async function callUi<T>(tidewatch: HeadlessTidewatch, command: string, payload: unknown): Promise<T> {
  const token = new URL(tidewatch.uiUrl).hash.replace('#token=', '')
  const socket = new WebSocket(`${tidewatch.baseUrl.replace('http', 'ws')}ui?token=${token}`)
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject))
  socket.send(JSON.stringify({ id: 1, command, payload }))
  const answer = await new Promise<{ ok: boolean; value: T }>((resolve) => {
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { id?: number; ok: boolean; value: T }
      if (frame.id === 1) resolve(frame)
    })
  })
  socket.close()
  if (!answer.ok) throw new Error(`${command}: ${JSON.stringify(answer)}`)
  return answer.value
}

export async function openApp(page: Page, url: string): Promise<void> {
  await page.goto(url)
  await page.locator('body[data-app-ready="true"]').waitFor({ timeout: 30_000 })
}

/** Saves a screenshot and checks it shows something: many colours, not one flat fill. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(ARTIFACTS, { recursive: true })
  const file = path.join(ARTIFACTS, `${name}.png`)
  await page.screenshot({ path: file, fullPage: false })
  const png = PNG.sync.read(fs.readFileSync(file))
  const colours = new Set<number>()
  for (let i = 0; i < png.data.length; i += 4 * 7) colours.add(png.data.readUInt32BE(i))
  expect(png.width).toBeGreaterThan(600)
  expect(colours.size, `${file} looks blank`).toBeGreaterThan(40)
  return file
}

export const test = base
export { expect }
