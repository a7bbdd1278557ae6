/** Each branch of the browser finder, with the environment and the filesystem faked: no browser is launched. */
import { describe, expect, it } from 'vitest'
import { BASE_ARGS, findChromium, type ChromiumLookups } from '../e2e/find-chromium'

const PLAYWRIGHT_CHROMIUM = '/home/me/.cache/ms-playwright/chromium-1234/chrome-linux/chrome'

function lookups(overrides: Partial<ChromiumLookups> & { files?: string[]; unpacked?: boolean } = {}): ChromiumLookups & { unpackCalls: number } {
  const files = new Set(overrides.files ?? ['/etc/fonts/fonts.conf'])
  const fake = {
    env: {},
    platform: 'linux' as NodeJS.Platform,
    arch: 'x64',
    exists: (file: string) => files.has(file),
    playwrightExecutable: async () => PLAYWRIGHT_CHROMIUM,
    unpackCalls: 0,
    async sparticuz() {
      fake.unpackCalls += 1
      return overrides.unpacked === false
        ? null
        : {
            executablePath: '/tmp/chromium',
            args: ['--single-process', '--disable-web-security', '--allow-running-insecure-content', '--no-zygote', '--no-sandbox'],
            fontsDir: '/tmp/fonts',
          }
    },
    ...overrides,
  }
  return fake
}

describe('findChromium', () => {
  it('takes CHROMIUM_PATH first, before any installed browser', async () => {
    const found = await findChromium(
      lookups({ env: { CHROMIUM_PATH: '/opt/chrome/chrome' }, files: ['/opt/chrome/chrome', PLAYWRIGHT_CHROMIUM, '/usr/bin/chromium'] }),
    )
    expect(found).toMatchObject({ source: 'CHROMIUM_PATH', executablePath: '/opt/chrome/chrome', args: BASE_ARGS, env: undefined })
  })

  it('refuses a CHROMIUM_PATH that does not exist, saying how to recover', async () => {
    await expect(findChromium(lookups({ env: { CHROMIUM_PATH: '/nope/chrome' } }))).rejects.toThrow(
      /CHROMIUM_PATH is \/nope\/chrome, which does not exist; unset it/,
    )
  })

  it("then a Chromium Playwright installed, before the system's", async () => {
    const found = await findChromium(lookups({ files: [PLAYWRIGHT_CHROMIUM, '/usr/bin/chromium'] }))
    expect(found).toMatchObject({ source: 'playwright', executablePath: PLAYWRIGHT_CHROMIUM })
  })

  it('then a system Chromium or Chrome, in the listed order', async () => {
    expect(await findChromium(lookups({ files: ['/usr/bin/chromium', '/usr/bin/google-chrome'] }))).toMatchObject({
      source: 'system',
      executablePath: '/usr/bin/chromium',
    })
    expect(await findChromium(lookups({ files: ['/usr/bin/google-chrome'] }))).toMatchObject({ source: 'system', executablePath: '/usr/bin/google-chrome' })
  })

  it('else the Chromium inside @sparticuz/chromium, without the flags that break Playwright or web security', async () => {
    const fake = lookups()
    const found = await findChromium(fake)
    expect(fake.unpackCalls).toBe(1)
    expect(found.source).toBe('@sparticuz/chromium')
    expect(found.executablePath).toBe('/tmp/chromium')
    expect(found.args).toEqual([...BASE_ARGS, '--no-zygote'])
    // The machine has a fontconfig of its own: the browser keeps it.
    expect(found.env).toBeUndefined()
    expect(found.description).toContain('@sparticuz/chromium')
  })

  it("gives the bundled browser the package's fonts on a machine without fontconfig", async () => {
    const found = await findChromium(lookups({ files: [], env: { HOME: '/home/me' } }))
    expect(found.env).toEqual({ HOME: '/home/me', FONTCONFIG_PATH: '/tmp/fonts' })
  })

  it('does not unpack the bundled browser when another one is found', async () => {
    const fake = lookups({ files: ['/usr/bin/chromium'] })
    await findChromium(fake)
    expect(fake.unpackCalls).toBe(0)
  })

  it("on macOS and Windows leaves the choice to Playwright's own browser", async () => {
    for (const platform of ['darwin', 'win32'] as const) {
      const fake = lookups({ platform, files: ['/usr/bin/chromium'] })
      const found = await findChromium(fake)
      expect(found).toMatchObject({ source: 'playwright', executablePath: undefined })
      expect(found.description).toContain('npx playwright install chromium')
      expect(fake.unpackCalls).toBe(0)
    }
  })

  it('on Linux other than x64, with nothing installed, says how to get a browser', async () => {
    const fake = lookups({ arch: 'arm64' })
    const found = await findChromium(fake)
    expect(fake.unpackCalls).toBe(0)
    expect(found).toMatchObject({ source: 'playwright', executablePath: undefined })
    expect(found.description).toMatch(/not installed: run `npx playwright install chromium`/)
  })

  it('without the npm package either, says the same', async () => {
    const found = await findChromium(lookups({ unpacked: false }))
    expect(found).toMatchObject({ source: 'playwright', executablePath: undefined })
    expect(found.description).toMatch(/set CHROMIUM_PATH/)
  })
})
