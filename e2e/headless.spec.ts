/** The UI in Chromium against `tidewatch serve` on the embedded demo chain. */
import http from 'node:http'
import { expect, openApp, saveScreenshot, startHeadless, test, type HeadlessTidewatch } from './fixtures'

let tidewatch: HeadlessTidewatch

test.beforeAll(async () => {
  tidewatch = await startHeadless()
})
test.afterAll(async () => {
  const code = await tidewatch.stop('SIGTERM')
  expect(code, tidewatch.output()).toBe(0)
})

test('live heads from the demo chain fill the table and the chart', async ({ page }) => {
  await openApp(page, tidewatch.uiUrl)
  // The token moved out of the address bar.
  expect(page.url()).not.toContain('token=')
  const demo = page.getByTestId('connection-row').first()
  await expect(demo).toHaveAttribute('data-state', 'connected')
  await expect(page.getByTestId('head-row').nth(2)).toBeVisible({ timeout: 45_000 })
  const firstNumber = Number((await page.getByTestId('head-row').first().getAttribute('data-number')) ?? NaN)
  expect(firstNumber).toBeGreaterThan(0)
  // Live: a newer block replaces the top row without a reload.
  await expect
    .poll(async () => Number(await page.getByTestId('head-row').first().getAttribute('data-number')), { timeout: 20_000 })
    .toBeGreaterThan(firstNumber)
  await expect(page.getByTestId('heads-chart').locator('svg path.recharts-curve, svg .recharts-bar-rectangle').first()).toBeVisible()
  await saveScreenshot(page, 'heads')
})

test('a bad endpoint URL is explained, an unreachable one shows why it fails', async ({ page }) => {
  await openApp(page, tidewatch.uiUrl)
  const input = page.getByTestId('connection-url-input')
  await input.fill('http://127.0.0.1:8545')
  await expect(page.getByTestId('connection-url-error')).toContainText('ws:// or wss://')
  await expect(page.getByTestId('connection-add-button')).toBeDisabled()

  await page.getByTestId('connection-name-input').fill('Nothing here')
  await input.fill('ws://127.0.0.1:9')
  await expect(page.getByTestId('connection-url-error')).toHaveCount(0)
  await page.getByTestId('connection-add-button').click()
  const row = page.getByTestId('connection-row').filter({ hasText: 'Nothing here' })
  await expect(row).toHaveAttribute('data-state', /reconnecting|failed/)
  await expect(row.getByTestId('connection-error')).toContainText('ECONNREFUSED')
  await saveScreenshot(page, 'connections-error')
})

test('the UI socket refuses a connection without the API token', async () => {
  const status = await new Promise<number>((resolve, reject) => {
    const request = http.get(`${tidewatch.baseUrl}ui`, {
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
    })
    request.on('response', (response) => resolve(response.statusCode ?? 0))
    request.on('upgrade', () => resolve(101))
    request.on('error', reject)
  })
  expect(status).toBe(401)
})

test('Settings shows disk use per connection, keeps a retention change, and compacts the store', async ({ page }) => {
  await openApp(page, tidewatch.uiUrl)
  await page.getByTestId('settings-open').click()
  const storage = page.getByTestId('storage-settings')
  await expect(storage).toBeVisible()
  const row = storage.locator('[data-testid^="storage-row-"]').first()
  await expect(row.locator('[data-testid^="storage-bytes-"]')).toHaveText(/\d+(\.\d+)? (KiB|MiB|GiB)/)
  const heads = row.getByLabel('Heads, days')
  await heads.fill('7')
  await row.getByRole('button', { name: 'Save' }).click()
  await expect(storage.getByTestId('storage-error')).toHaveCount(0)
  await page.getByTestId('storage-compact').click()
  await expect(storage.getByTestId('storage-compacted')).toContainText('→')
  await saveScreenshot(page, 'settings-storage')
  // The setting is the store's, not the page's: a reload shows it again.
  await page.reload()
  await page.getByTestId('settings-open').click()
  await expect(page.getByTestId('storage-settings').locator('[data-testid^="storage-row-"]').first().getByLabel('Heads, days')).toHaveValue('7')
})
