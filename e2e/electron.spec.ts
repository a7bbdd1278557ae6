/**
 * The desktop app through Playwright's Electron driver. Needs the Electron runtime, which
 * Electron 45 fetches on first launch; where it cannot be fetched the test is skipped with
 * the reason printed.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'
import { _electron as electron } from '@playwright/test'
import { expect, saveScreenshot, test } from './fixtures'

const require = createRequire(import.meta.url)

function electronExecutable(): string | null {
  const dir = path.dirname(require.resolve('electron/package.json'))
  const pathFile = path.join(dir, 'path.txt')
  if (!fs.existsSync(pathFile)) return null
  const exe = path.join(dir, 'dist', fs.readFileSync(pathFile, 'utf8'))
  return fs.existsSync(exe) ? exe : null
}

function electronSqliteBinding(): string | null {
  const version = (JSON.parse(fs.readFileSync(require.resolve('electron/package.json'), 'utf8')) as { version: string }).version
  const file = path.join(process.cwd(), '.electron-native', version, 'better_sqlite3.node')
  return fs.existsSync(file) ? file : null
}

test('the desktop window shows live heads from the demo chain', async () => {
  const executable = electronExecutable()
  const binding = electronSqliteBinding()
  const reason = !executable
    ? 'Electron runtime is absent (node_modules/electron/dist not fetched; run `npm start` once where the runtime can be downloaded)'
    : !binding
      ? 'Electron runtime is present but the Electron-ABI better-sqlite3 is not built yet (run `npm start` once)'
      : null
  if (reason) console.log(`skipped: ${reason}`)
  test.skip(reason !== null, reason ?? '')

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-electron-e2e-'))
  const app = await electron.launch({
    executablePath: executable!,
    args: [process.cwd()],
    env: { ...process.env, TIDEWATCH_DATA_DIR: dataDir, TIDEWATCH_SQLITE_BINDING: binding! },
  })
  try {
    const window = await app.firstWindow()
    await window.locator('body[data-app-ready="true"]').waitFor()
    await expect(window.getByTestId('head-row').nth(1)).toBeVisible({ timeout: 45_000 })
    // Isolation as the page sees it: no Node, only the frozen contract bridge.
    const seen = await window.evaluate(() => ({
      require: typeof (globalThis as { require?: unknown }).require,
      process: typeof (globalThis as { process?: unknown }).process,
      bridgeFrozen: Object.isFrozen((globalThis as { tidewatch?: object }).tidewatch),
    }))
    expect(seen).toEqual({ require: 'undefined', process: 'undefined', bridgeFrozen: true })
    await saveScreenshot(window, 'electron-heads')
  } finally {
    await app.close()
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
})
