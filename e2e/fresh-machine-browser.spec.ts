/**
 * The browser a fresh Linux x64 machine gets: with CHROMIUM_PATH unset and no Playwright or
 * system browser visible, the finder falls back to the Chromium inside @sparticuz/chromium.
 * Launched here whatever this machine has installed, so `npm test` always proves that path.
 */
import { chromium } from '@playwright/test'
import { findChromium, realLookups, SYSTEM_CHROMIUM_PATHS } from './find-chromium'
import { expect, openApp, startHeadless, test } from './fixtures'

test('with no browser installed, the Chromium from npm runs the UI', async () => {
  test.skip(process.platform !== 'linux' || process.arch !== 'x64', '@sparticuz/chromium carries a Linux x64 browser only')
  const real = realLookups()
  const playwrightChromium = await real.playwrightExecutable()
  const hidden = new Set([playwrightChromium, ...SYSTEM_CHROMIUM_PATHS])
  const { CHROMIUM_PATH: _unset, ...env } = process.env
  const found = await findChromium({ ...real, env, exists: (file) => !hidden.has(file) && real.exists(file) })
  expect(found.source).toBe('@sparticuz/chromium')

  const tidewatch = await startHeadless()
  const browser = await chromium.launch({ executablePath: found.executablePath, args: found.args, ...(found.env ? { env: found.env } : {}) })
  try {
    // Two pages in turn, as tests do: closing a context must not take the browser down.
    for (let i = 0; i < 2; i++) {
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } })
      const page = await context.newPage()
      await openApp(page, tidewatch.uiUrl)
      await expect(page.getByTestId('head-row').first()).toBeVisible()
      await context.close()
    }
    expect(browser.version()).toMatch(/^\d+\./)
  } finally {
    await browser.close()
    expect(await tidewatch.stop('SIGTERM'), tidewatch.output()).toBe(0)
  }
})
