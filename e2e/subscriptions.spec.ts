/** Building a logs subscription in the UI and watching its events arrive (headless mode, demo chain). */
import { pad, parseAbiItem, toEventSelector } from 'viem'
import { mnemonicToAccount } from 'viem/accounts'
import { expect, openApp, saveScreenshot, startHeadless, test, type HeadlessTidewatch } from './fixtures'

const TRANSFER = toEventSelector(parseAbiItem('event Transfer(address indexed from, address indexed to, uint256 value)'))
// The demo traffic moves tokens between anvil's dev accounts 0..5.
const senders = [0, 1, 2, 3, 4, 5].map((i) => mnemonicToAccount('test test test test test test test test test test test junk', { addressIndex: i }).address)

let tidewatch: HeadlessTidewatch
test.beforeAll(async () => {
  tidewatch = await startHeadless()
})
test.afterAll(async () => {
  expect(await tidewatch.stop('SIGTERM'), tidewatch.output()).toBe(0)
})

test('a logs subscription with two topic positions delivers Transfer events', async ({ page }) => {
  await openApp(page, tidewatch.uiUrl)
  await expect(page.getByTestId('connection-row').first()).toHaveAttribute('data-state', 'connected')
  await page.getByTestId('tab-subscriptions').click()

  await page.getByTestId('subscription-type').selectOption('logs')
  await page.getByTestId('subscription-label-input').fill('Transfers from the dev accounts')
  await page.getByTestId('topic-add').click()
  await page.getByTestId('topic-mode-0').selectOption('one')
  await page.getByTestId('topic-input-0').fill('0x1234')
  await expect(page.getByTestId('subscription-error')).toContainText('64 hex digits')
  await expect(page.getByTestId('subscription-create-button')).toBeDisabled()
  await page.getByTestId('topic-input-0').fill(TRANSFER)
  await page.getByTestId('topic-add').click()
  await page.getByTestId('topic-mode-1').selectOption('several')
  await page.getByTestId('topic-input-1').fill(senders.map((a) => pad(a)).join('\n'))

  const preview = page.getByTestId('subscription-preview')
  await expect(preview).toContainText('"eth_subscribe"')
  const request = JSON.parse((await preview.locator('pre, code').first().textContent()) ?? '{}') as { params: [string, { topics: unknown[] }] }
  expect(request.params[0]).toBe('logs')
  expect(request.params[1].topics).toEqual([TRANSFER, senders.map((a) => pad(a).toLowerCase())])

  await page.getByTestId('subscription-create-button').click()
  // The demo connection comes with a Transfer subscription of its own: pick ours by its label.
  const row = page.locator('[data-testid="subscription-row"][data-type="logs"]').filter({ hasText: 'Transfers from the dev accounts' })
  await expect(row).toHaveAttribute('data-state', 'active')
  await row.click()
  const events = page.getByTestId('event-row')
  await expect(events.nth(2)).toBeVisible({ timeout: 30_000 })
  await expect(events.first()).toHaveAttribute('data-kind', 'log')
  await events.first().click()
  const detail = page.getByTestId('event-detail')
  await expect(detail).toContainText(TRANSFER)
  const payload = JSON.parse((await detail.locator('pre').first().textContent()) ?? '{}') as { topics: string[] }
  expect(senders.map((a) => pad(a).toLowerCase())).toContain(payload.topics[1])
  await saveScreenshot(page, 'subscriptions')
})
