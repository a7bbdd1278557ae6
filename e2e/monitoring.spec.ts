/**
 * The monitoring UI as a person uses it, in Chromium against headless mode on the demo
 * chain: a Transfer filter built from the event picker, decoded rows in the live log,
 * pause and resume without losing rows, a CSV export checked against the store, a
 * watchlist label showing up in the log. Screenshots of each screen are saved.
 */
import fs from 'node:fs'
import { getAddress } from 'viem'
import { mnemonicToAccount } from 'viem/accounts'
import { callUi, expect, openApp, saveScreenshot, startHeadless, test, type HeadlessTidewatch } from './fixtures'

const ALICE = getAddress(mnemonicToAccount('test test test test test test test test test test test junk', { addressIndex: 1 }).address)

let tidewatch: HeadlessTidewatch
let tokenAddress: string

test.beforeAll(async () => {
  tidewatch = await startHeadless()
  tokenAddress = tidewatch.output().match(/token (0x[0-9a-fA-F]{40})/)![1]!
})
test.afterAll(async () => {
  expect(await tidewatch.stop('SIGTERM'), tidewatch.output()).toBe(0)
})

const call = <T>(command: string, payload: unknown): Promise<T> => callUi<T>(tidewatch, command, payload)

test('build a Transfer filter, watch decoded rows, pause, export, label', async ({ page }) => {
  test.setTimeout(180_000)
  await openApp(page, tidewatch.uiUrl)
  await expect(page.getByTestId('connection-row').first()).toHaveAttribute('data-state', 'connected')
  // The chain from eth_chainId: anvil is in viem's list, without an explorer or a finality count of its own.
  await expect(page.getByTestId('connection-chain-name').first()).toHaveText('Anvil')
  await expect(page.getByTestId('connection-finality').first()).toHaveText('64 confirmations, generic default')
  // The connection's own count, stored with it, and back to the chain's default.
  await page.getByTestId('connection-confirmations-edit').first().click()
  await page.getByTestId('connection-confirmations-input').fill('12')
  await page.getByTestId('connection-confirmations-save').click()
  await expect(page.getByTestId('connection-finality').first()).toHaveText('12 confirmations, set for this connection')
  await page.getByTestId('connection-confirmations-edit').first().click()
  await page.getByTestId('connection-confirmations-default').click()
  await expect(page.getByTestId('connection-finality').first()).toHaveText('64 confirmations, generic default')
  await expect(page.getByTestId('head-row').nth(1)).toBeVisible({ timeout: 30_000 })
  await saveScreenshot(page, 'screen-blocks')

  // The filter: the demo token's Transfer events from one sender.
  await page.getByTestId('tab-subscriptions').click()
  await page.getByTestId('subscription-type').selectOption('logs')
  await page.getByTestId('subscription-label-input').fill('Transfers from account 1')
  await page.getByTestId('subscription-addresses').fill(tokenAddress)
  await page.getByTestId('event-picker-builtin').selectOption('ERC-20 Transfer')
  await page.getByTestId('event-arg-mode-from').selectOption('one')
  await page.getByTestId('event-arg-input-from').fill(ALICE)
  const request = JSON.parse((await page.getByTestId('subscription-preview').locator('pre, code').first().textContent()) ?? '{}') as {
    params: [string, { topics: unknown[] }]
  }
  expect(request.params[1].topics).toEqual([
    '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef',
    `0x000000000000000000000000${ALICE.slice(2).toLowerCase()}`,
  ])
  await saveScreenshot(page, 'screen-filter-builder')
  await page.getByTestId('subscription-create-button').click()
  // The demo connection comes with a Transfer subscription of its own: pick ours by its label.
  const row = page.locator('[data-testid="subscription-row"][data-type="logs"]').filter({ hasText: 'Transfers from account 1' })
  await expect(row).toHaveAttribute('data-state', 'active')
  const subscriptionId = Number(await row.getAttribute('data-subscription-id'))

  // Decoded rows arrive in the live log.
  await page.getByTestId('tab-live-log').click()
  await page.getByTestId('live-filter-subscription').selectOption(String(subscriptionId))
  const rows = page.locator('[data-testid="live-row"][data-event="Transfer"]')
  await expect(rows.nth(1)).toBeVisible({ timeout: 60_000 })
  // Amounts with the token's symbol and decimals (read once with eth_call), the raw value on hover.
  const transfer = page.locator(`[data-testid="live-row"][data-id="${await rows.first().getAttribute('data-id')}"]`)
  const amount = transfer.getByTestId('token-amount')
  await expect(amount).toHaveText(/^<?[\d,]+(\.\d+)? TWD$/)
  const raw = (await amount.getAttribute('data-raw')) ?? ''
  expect(raw).toMatch(/^\d+$/)
  await expect(amount).toHaveAttribute('title', new RegExp(`^${raw} \\(raw; TWD, 18 decimals\\)$`))
  await transfer.click()
  await expect(page.getByTestId('live-detail-args')).toContainText(ALICE)
  await expect(page.getByTestId('live-detail-args').getByTestId('token-amount')).toContainText(`raw ${raw}`)
  await expect(page.getByTestId('live-detail-chain')).toHaveText('Anvil (31337)')
  // A dev chain has no explorer: no links.
  await expect(page.getByTestId('live-detail').getByTestId('explorer-link')).toHaveCount(0)
  await saveScreenshot(page, 'screen-live-log')
  await page.keyboard.press('Escape')

  // Pause: the rows stand still while new ones are counted; resume shows every one of them.
  await page.getByTestId('live-pause').click()
  const frozen = await page.getByTestId('live-row').evaluateAll((els) => els.map((el) => Number(el.getAttribute('data-id'))))
  await expect.poll(async () => Number(await page.getByTestId('live-new-count').getAttribute('data-count')), { timeout: 60_000 }).toBeGreaterThan(0)
  expect(await page.getByTestId('live-row').evaluateAll((els) => els.map((el) => Number(el.getAttribute('data-id'))))).toEqual(frozen)
  await page.getByTestId('live-pause').click()
  await expect.poll(async () => (await page.getByTestId('live-row').count()) > frozen.length).toBe(true)
  const shown = await page.getByTestId('live-row').evaluateAll((els) => els.map((el) => Number(el.getAttribute('data-id'))))
  const stored = (await call<{ id: number }[]>('events.list', { subscriptionId, limit: 1000 })).map((e) => e.id)
  // Everything stored up to the newest row shown is shown, in order: nothing lost while paused.
  expect(shown).toEqual(stored.filter((id) => id <= shown[0]!))

  // Free text: a transaction hash finds its row (events.search, the live log's pages), a word found nowhere none.
  const wanted = (await call<{ id: number; transactionHash: string }[]>('events.list', { subscriptionId, limit: 1000 })).at(-1)!
  await page.getByTestId('live-filter-text').fill(wanted.transactionHash.slice(2, 20).toUpperCase())
  await expect(page.getByTestId('live-row')).toHaveCount(1)
  await expect(page.getByTestId('live-row').first()).toHaveAttribute('data-id', String(wanted.id))
  await saveScreenshot(page, 'screen-live-log-text')
  await page.getByTestId('live-filter-text').fill('found nowhere')
  await expect(page.getByTestId('live-empty')).toHaveAttribute('data-reason', 'no-match')
  await page.getByTestId('live-filter-text').fill('')
  await expect(page.getByTestId('live-row').first()).toBeVisible()

  // Export the subscription as CSV and compare with the store.
  await page.getByTestId('export-open').click()
  await page
    .locator(
      `[data-testid="export-subscription"][data-subscription-id="${subscriptionId}"] input, [data-testid="export-subscription"][data-subscription-id="${subscriptionId}"]`,
    )
    .first()
    .check()
  await page.getByTestId('export-format').selectOption('csv')
  const download = page.waitForEvent('download')
  await page.getByTestId('export-start').click()
  await expect(page.getByTestId('export-progress')).toHaveAttribute('data-state', 'done', { timeout: 30_000 })
  await saveScreenshot(page, 'screen-export')
  const file = await (await download).path()
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n')
  expect(lines[0]).toMatch(/^id,received_at,connection_id,subscription_ids,kind,/)
  const exportedIds = lines.slice(1).map((line) => Number(line.split(',')[0]))
  const storedAsc = (await call<{ id: number }[]>('events.list', { subscriptionId, limit: 1000 })).map((e) => e.id).reverse()
  expect(exportedIds).toEqual(storedAsc.slice(0, exportedIds.length))
  expect(exportedIds.length).toBe(Number(await page.getByTestId('export-progress').getAttribute('data-rows')))
  expect(lines.slice(1).every((line) => line.includes(',Transfer,'))).toBe(true)
  await page.getByTestId('export-close').click()

  // A watchlist label appears wherever the address does.
  await page.getByTestId('tab-watchlist').click()
  await page.getByTestId('watchlist-address-input').fill(ALICE)
  await page.getByTestId('watchlist-label-input').fill('Alice')
  await page.getByTestId('watchlist-add-button').click()
  await expect(page.locator(`[data-testid="watchlist-row"][data-address="${ALICE.toLowerCase()}"]`)).toBeVisible()
  await page.locator(`[data-testid="watchlist-row"][data-address="${ALICE.toLowerCase()}"]`).click()
  await expect(page.getByTestId('watchlist-activity')).toBeVisible()
  await saveScreenshot(page, 'screen-watchlist')
  await page.getByTestId('tab-live-log').click()
  await expect(page.getByTestId('live-row').first().getByTestId('address-label').filter({ hasText: 'Alice' }).first()).toBeVisible()

  await page.getByTestId('tab-node').click()
  await expect(page.getByTestId('syncing-state').first()).toHaveText(/no/)
  await saveScreenshot(page, 'screen-node')
})

test('a jump through the live log draws plain rows until it settles, then full rows', async ({ page }) => {
  // A short list, so the captured rows span several screens.
  await page.setViewportSize({ width: 1400, height: 560 })
  await openApp(page, tidewatch.uiUrl)
  await page.getByTestId('tab-live-log').click()
  const list = page.getByTestId('live-list')
  await expect.poll(() => list.evaluate((el) => el.scrollHeight / el.clientHeight), { timeout: 90_000 }).toBeGreaterThan(3)
  // Jump to the end, and look at the rows two frames later: well within the settle time.
  const plainAfterJump = await list.evaluate(async (el) => {
    el.scrollTop = el.scrollHeight
    const frame = (globalThis as unknown as { requestAnimationFrame(callback: () => void): number }).requestAnimationFrame
    for (let i = 0; i < 2; i++) await new Promise<void>((resolve) => frame(() => resolve()))
    return [...el.querySelectorAll('[data-testid="live-row"]')].map((row) => row.getAttribute('data-plain'))
  })
  expect(plainAfterJump.length).toBeGreaterThan(0)
  expect(plainAfterJump.every((plain) => plain === 'true')).toBe(true)
  // Settled: full rows again, decoded arguments included.
  await expect
    .poll(() => list.evaluate((el) => [...el.querySelectorAll('[data-testid="live-row"]')].every((row) => row.getAttribute('data-plain') === 'false')))
    .toBe(true)
  await expect(page.locator('[data-testid="live-row"][data-event="Transfer"] .live-args-value').first()).toBeVisible()
  // Scrolling by less than a screen never goes plain.
  await list.hover()
  await page.mouse.wheel(0, -120)
  await page.waitForTimeout(50)
  expect(await list.evaluate((el) => [...el.querySelectorAll('[data-testid="live-row"]')].some((row) => row.getAttribute('data-plain') === 'true'))).toBe(false)
})
