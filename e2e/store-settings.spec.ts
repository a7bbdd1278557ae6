/** Settings > Store in the browser against `tidewatch serve`: the store in use, read-only (the command line chooses it). */
import path from 'node:path'
import { callUi, expect, openApp, saveScreenshot, startHeadless, test, type HeadlessTidewatch } from './fixtures'

let tidewatch: HeadlessTidewatch

test.beforeAll(async () => {
  tidewatch = await startHeadless()
})
test.afterAll(async () => {
  const code = await tidewatch.stop('SIGTERM')
  expect(code, tidewatch.output()).toBe(0)
})

test('Settings > Store shows the embedded store read-only in headless mode, and the store cannot be changed over the contract', async ({ page }) => {
  await openApp(page, tidewatch.uiUrl)
  await page.getByTestId('settings-open').click()
  const section = page.getByRole('region', { name: 'Store', exact: true })
  const store = section.getByTestId('store-choice')
  await expect(store).toHaveAttribute('data-kind', 'sqlite')
  await expect(store).toHaveAttribute('data-editable', 'false')
  await expect(store.getByTestId('store-kind')).toHaveText(/Embedded SQLite/)
  await expect(store.getByTestId('store-location')).toHaveText(path.join(tidewatch.dataDir, 'tidewatch.sqlite'))
  await expect(store.getByTestId('store-read-only')).toContainText('tidewatch serve --store')
  // Read-only: no form, no field, no button that would change it.
  await expect(store.locator('form, input')).toHaveCount(0)
  await expect(store.getByRole('button', { name: /Save|embedded|Restart/ })).toHaveCount(0)
  await expect(store.getByTestId('store-last-error')).toHaveCount(0)
  await store.scrollIntoViewIfNeeded()
  await saveScreenshot(page, 'settings-store-headless')

  // The contract says the same, and refuses a change with what to do instead.
  await expect(callUi(tidewatch, 'store.get', {})).resolves.toMatchObject({ kind: 'sqlite', editable: false, configured: null, restartRequired: false })
  await expect(callUi(tidewatch, 'store.set', { url: 'postgres://viewer@db.example/shared' })).rejects.toThrow(/--store/)
})

/**
 * The desktop's form, in the same renderer: the UI socket's store commands are answered here the
 * way the desktop app answers them (src/main/app/store-choice.ts), everything else by serve.
 */
test('the desktop form checks the URL inline, saves it with the password, never shows the password back, and offers a restart', async ({ page }) => {
  const PASSWORD = 'p@ss word'
  const sent: { command: string; payload: unknown }[] = []
  let status = {
    kind: 'sqlite',
    location: '/home/me/.config/Tidewatch/tidewatch.sqlite',
    configured: null as { url: string } | null,
    restartRequired: false,
    editable: true,
    lastError: 'Could not open the PostgreSQL store postgres://viewer:***@old.example/shared: connect ECONNREFUSED. Tidewatch uses the embedded store …' as
      string | null,
  }
  await page.routeWebSocket(/\/ui\?/, (socket) => {
    const server = socket.connectToServer()
    socket.onMessage((message) => {
      const frame = JSON.parse(String(message)) as { id: number; command: string; payload: { url?: string | null } }
      if (!['store.get', 'store.set', 'app.restart'].includes(frame.command)) return server.send(message)
      sent.push({ command: frame.command, payload: frame.payload })
      if (frame.command === 'store.set') {
        const url = frame.payload.url ?? null
        status = {
          ...status,
          configured: url === null ? null : { url: url.replace(/:[^:@/]+@/, ':***@') },
          restartRequired: url !== null,
          lastError: null,
        }
      }
      const value = frame.command === 'app.restart' ? { restarting: true } : status
      socket.send(JSON.stringify({ id: frame.id, ok: true, value }))
    })
  })
  await openApp(page, tidewatch.uiUrl)
  await page.getByTestId('settings-open').click()
  const store = page.getByTestId('store-choice')
  await expect(store).toHaveAttribute('data-editable', 'true')
  await expect(store.getByTestId('store-last-error')).toContainText('Could not open the PostgreSQL store')
  await expect(store.getByTestId('store-restart-note')).toHaveCount(0)

  // The failed choice can be dropped: back to the embedded store, nothing wrong left to say.
  await store.getByRole('button', { name: 'Use the embedded store' }).click()
  await expect(store.getByTestId('store-last-error')).toHaveCount(0)
  await expect(store.getByRole('button', { name: 'Use the embedded store' })).toHaveCount(0)
  expect(sent.filter((s) => s.command === 'store.set')).toEqual([{ command: 'store.set', payload: { url: null } }])

  // Checked before anything is sent, said under the fields.
  const urlInput = store.getByLabel('PostgreSQL URL')
  const passwordInput = store.getByLabel(/^Password/)
  await urlInput.fill('mysql://viewer@db.example/shared')
  await store.getByRole('button', { name: 'Save' }).click()
  await expect(store.getByTestId('store-error')).toContainText('postgres://')
  await expect(urlInput).toHaveAttribute('aria-invalid', 'true')
  expect(sent.filter((s) => s.command === 'store.set')).toHaveLength(1)

  await urlInput.fill('postgres://viewer@db.example:5432/shared')
  await expect(store.getByTestId('store-error')).toHaveCount(0)
  await passwordInput.fill(PASSWORD)
  await expect(passwordInput).toHaveAttribute('type', 'password')
  await store.getByRole('button', { name: 'Save' }).click()
  await expect(store.getByTestId('store-next')).toHaveText('postgres://viewer:***@db.example:5432/shared')
  expect(sent.filter((s) => s.command === 'store.set').at(-1)).toEqual({
    command: 'store.set',
    payload: { url: 'postgres://viewer:p%40ss%20word@db.example:5432/shared' },
  })
  // Saved: the fields are empty again and the password is nowhere on the page.
  await expect(urlInput).toHaveValue('')
  await expect(passwordInput).toHaveValue('')
  expect(await page.locator('body').innerText()).not.toContain('p@ss')
  await expect(store.getByTestId('store-restart-note')).toContainText('starts again')
  await saveScreenshot(page, 'settings-store-desktop-form')

  await store.getByRole('button', { name: 'Restart now' }).click()
  await expect(store.getByRole('button', { name: 'Restarting…' })).toBeDisabled()
  await expect.poll(() => sent.map((s) => s.command)).toContain('app.restart')
})
