import { defineConfig } from '@playwright/test'
import { findChromium } from './e2e/find-chromium'

// The config is loaded by the runner and again by each worker: say it once.
const browser = await findChromium()
if (process.env.TEST_WORKER_INDEX === undefined) console.log(`Browser tests use ${browser.description}`)

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results',
  timeout: 120_000,
  expect: { timeout: 30_000 },
  workers: 1,
  retries: 0,
  use: {
    browserName: 'chromium',
    viewport: { width: 1400, height: 900 },
    launchOptions: {
      executablePath: browser.executablePath,
      args: browser.args,
      ...(browser.env ? { env: browser.env } : {}),
    },
    trace: 'off',
    screenshot: 'only-on-failure',
  },
})
