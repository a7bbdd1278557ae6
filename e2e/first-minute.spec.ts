/**
 * The first minute of a new user, as in issue #12: a fresh data directory, the demo chain,
 * no endpoint and nothing built. Every tab must show live data within 30 s of the start,
 * with only tab clicks: decoded Transfer rows in the live log, the demo subscription, the
 * demo sender's transfers in the watchlist. A user's endpoint gets none of this.
 * The README's screenshots come from here.
 */
import { getAddress } from 'viem'
import { mnemonicToAccount } from 'viem/accounts'
import { startAnvil, type AnvilProcess } from '../src/main/demo/anvil-process'
import { callUi, expect, openApp, saveScreenshot, startHeadless, test, type HeadlessTidewatch } from './fixtures'

const FIRST_MINUTE_MS = 30_000
// Account 0 of anvil's dev mnemonic deploys the demo token and sends transfers every block.
const DEMO_SENDER = getAddress(mnemonicToAccount('test test test test test test test test test test test junk', { addressIndex: 0 }).address).toLowerCase()

test.describe('on the demo chain', () => {
  let tidewatch: HeadlessTidewatch
  let startedAt: number
  test.beforeAll(async () => {
    startedAt = Date.now()
    tidewatch = await startHeadless()
  })
  test.afterAll(async () => {
    expect(await tidewatch.stop('SIGTERM'), tidewatch.output()).toBe(0)
  })
  /** What is left of the 30 s since `tidewatch serve` was started (at least a second to look). */
  const left = (): number => Math.max(1_000, startedAt + FIRST_MINUTE_MS - Date.now())

  test('every tab shows live data within 30 s, with nothing built', async ({ page }) => {
    await openApp(page, tidewatch.uiUrl)
    await expect(page.getByTestId('demo-note')).toContainText('local demo chain')

    // Blocks.
    await expect(page.getByTestId('head-row').nth(2)).toBeVisible({ timeout: left() })
    await expect(page.getByTestId('heads-chart').locator('svg path.recharts-curve, svg .recharts-bar-rectangle').first()).toBeVisible({ timeout: left() })

    // Live log: decoded Transfers of the demo token, history first, then new blocks.
    await page.getByTestId('tab-live-log').click()
    const transfers = page.locator('[data-testid="live-row"][data-event="Transfer"]')
    await expect(transfers.nth(5)).toBeVisible({ timeout: left() })
    await expect(transfers.first().locator('.live-args-value').first()).toBeVisible()
    const newest = Number(await transfers.first().getAttribute('data-id'))
    await expect.poll(async () => Number(await transfers.first().getAttribute('data-id')), { timeout: left() }).toBeGreaterThan(newest)

    // Subscriptions: the demo's own, active and counting.
    await page.getByTestId('tab-subscriptions').click()
    const subscription = page.locator('[data-testid="subscription-row"][data-type="logs"]').filter({ hasText: 'Demo token transfers' })
    await expect(subscription).toHaveAttribute('data-state', 'active', { timeout: left() })
    await expect
      .poll(async () => Number(await subscription.getByTestId('subscription-event-count').getAttribute('data-count')), { timeout: left() })
      .toBeGreaterThan(5)

    // Watchlist: the demo sender, its transfers shown without picking it.
    await page.getByTestId('tab-watchlist').click()
    await expect(page.locator(`[data-testid="watchlist-row"][data-address="${DEMO_SENDER}"]`)).toContainText('Demo sender')
    await expect(page.getByTestId('watchlist-activity')).toHaveAttribute('data-address', DEMO_SENDER)
    await expect(page.getByTestId('watchlist-transfer').first()).toBeVisible({ timeout: left() })

    // Node status.
    await page.getByTestId('tab-node').click()
    await expect(page.getByTestId('syncing-state').first()).toHaveText(/no/, { timeout: left() })
    const tookMs = Date.now() - startedAt
    console.log(`every tab showed live data ${(tookMs / 1000).toFixed(1)} s after \`tidewatch serve\` was started`)
    expect(tookMs, 'the first minute took longer than 30 s').toBeLessThan(FIRST_MINUTE_MS)

    // The screenshots of the README, all from this first minute: once the charts have ten blocks.
    await page.getByTestId('tab-blocks').click()
    await expect(page.getByTestId('head-row').nth(9)).toBeVisible()
    await saveScreenshot(page, 'first-minute-blocks')
    await page.getByTestId('tab-live-log').click()
    await transfers.first().click()
    await expect(page.getByTestId('live-detail-args')).toBeVisible()
    await saveScreenshot(page, 'first-minute-live-log')
    await page.keyboard.press('Escape')
    await page.getByTestId('tab-watchlist').click()
    await expect(page.getByTestId('watchlist-transfer').nth(2)).toBeVisible()
    await saveScreenshot(page, 'first-minute-watchlist')
  })

  test('the demo note goes when dismissed, and stays gone after a reload', async ({ page }) => {
    await openApp(page, tidewatch.uiUrl)
    await expect(page.getByTestId('demo-note')).toBeVisible()
    await page.getByTestId('demo-note-dismiss').click()
    await expect(page.getByTestId('demo-note')).toHaveCount(0)
    expect(await callUi(tidewatch, 'preferences.get', {})).toEqual({ demoNoteDismissed: true })
    await page.reload()
    await page.locator('body[data-app-ready="true"]').waitFor()
    // The connection list is in: had the note been coming back, it would be drawn with it.
    await expect(page.getByTestId('connection-row').first()).toHaveAttribute('data-state', 'connected')
    await expect(page.getByTestId('demo-note')).toHaveCount(0)
  })
})

test.describe('on a user endpoint', () => {
  let anvil: AnvilProcess
  let tidewatch: HeadlessTidewatch
  test.beforeAll(async () => {
    anvil = await startAnvil({ blockTime: 1 })
    tidewatch = await startHeadless(['--rpc', anvil.wsUrl])
  })
  test.afterAll(async () => {
    expect(await tidewatch.stop('SIGTERM'), tidewatch.output()).toBe(0)
    await anvil.stop()
  })

  test('nothing is added: no subscription, no watchlist entry, no demo note', async ({ page }) => {
    await openApp(page, tidewatch.uiUrl)
    const row = page.getByTestId('connection-row')
    await expect(row).toHaveCount(1)
    await expect(row).toHaveAttribute('data-state', 'connected')
    // Live: heads arrive, so the app is past its start-up.
    await expect(page.getByTestId('head-row').nth(1)).toBeVisible()
    expect(tidewatch.output()).not.toContain('demo chain')
    expect(await callUi(tidewatch, 'subscriptions.list', {})).toEqual([])
    expect(await callUi(tidewatch, 'watchlist.list', {})).toEqual([])
    await expect(page.getByTestId('demo-note')).toHaveCount(0)
    await page.getByTestId('tab-subscriptions').click()
    await expect(page.getByTestId('subscription-row')).toHaveCount(0)
    await page.getByTestId('tab-watchlist').click()
    await expect(page.getByTestId('watchlist-empty')).toBeVisible()
  })
})
