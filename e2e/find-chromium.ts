/**
 * Which Chromium the browser tests (playwright.config.ts) and the live-log benchmark launch.
 * In this order: CHROMIUM_PATH; a browser Playwright installed (`npx playwright install
 * chromium`); on Linux a system Chromium or Chrome; else, on Linux x64, the Chromium that
 * the npm package @sparticuz/chromium carries inside it, so `npm install && npm test` needs
 * nothing from outside the npm registry. On macOS and Windows Playwright's own browser is
 * used as usual (its launch error says how to install it).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export interface ChromiumChoice {
  source: 'CHROMIUM_PATH' | 'playwright' | 'system' | '@sparticuz/chromium'
  /** Undefined: Playwright picks its own browser. */
  executablePath: string | undefined
  /** Flags the browser needs beyond Playwright's own. */
  args: string[]
  /** Environment for the browser process; undefined: inherit. */
  env: Record<string, string> | undefined
  /** One line for a person: which browser and why. */
  description: string
}

/** What the finder looks at, injected so each branch is testable without a browser. */
export interface ChromiumLookups {
  env: Record<string, string | undefined>
  platform: NodeJS.Platform
  arch: string
  exists(file: string): boolean
  /** Where Playwright's installed Chromium would be (it may not exist). */
  playwrightExecutable(): Promise<string>
  /** Unpacks @sparticuz/chromium's browser (into the temp directory) and its recommended flags; null when the package is absent. */
  sparticuz(): Promise<{ executablePath: string; args: string[]; fontsDir: string } | null>
}

/** Flags every choice gets: no sandbox (CI runs as root), and nothing that phones home. */
export const BASE_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export const SYSTEM_CHROMIUM_PATHS = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/snap/bin/chromium',
  '/usr/bin/google-chrome-stable',
  '/usr/bin/google-chrome',
]

/**
 * @sparticuz/chromium's flags are made for AWS Lambda. Left out: `--single-process`, which
 * crashes the browser when Playwright closes a context (every test does), and the two that
 * switch off web security, so the tests see the browser's real security model.
 */
const SPARTICUZ_DROPPED = new Set(['--single-process', '--disable-web-security', '--allow-running-insecure-content'])

/** Fontconfig's system configuration; without it (a bare machine) pages would have no fonts. */
const SYSTEM_FONTCONFIG = '/etc/fonts/fonts.conf'

export async function findChromium(lookups: ChromiumLookups = realLookups()): Promise<ChromiumChoice> {
  const fromEnv = lookups.env['CHROMIUM_PATH']
  if (fromEnv) {
    if (!lookups.exists(fromEnv)) throw new Error(`CHROMIUM_PATH is ${fromEnv}, which does not exist; unset it to let the tests find a browser`)
    return choice('CHROMIUM_PATH', fromEnv, [], undefined, `${fromEnv} (CHROMIUM_PATH)`)
  }
  const installed = await lookups.playwrightExecutable()
  if (lookups.exists(installed)) return choice('playwright', installed, [], undefined, `Playwright's Chromium at ${installed}`)
  if (lookups.platform !== 'linux') {
    return choice('playwright', undefined, [], undefined, "Playwright's own Chromium (install it once with `npx playwright install chromium`)")
  }
  const system = SYSTEM_CHROMIUM_PATHS.find((file) => lookups.exists(file))
  if (system) return choice('system', system, [], undefined, `the system browser at ${system}`)
  const bundled = lookups.arch === 'x64' ? await lookups.sparticuz() : null
  if (bundled) {
    const args = bundled.args.filter((flag) => !SPARTICUZ_DROPPED.has(flag))
    const env =
      lookups.exists(SYSTEM_FONTCONFIG) || lookups.env['FONTCONFIG_PATH'] ? undefined : { ...definedOnly(lookups.env), FONTCONFIG_PATH: bundled.fontsDir }
    return choice(
      '@sparticuz/chromium',
      bundled.executablePath,
      args,
      env,
      `the Chromium inside the npm package @sparticuz/chromium, unpacked to ${bundled.executablePath} (no system browser found)`,
    )
  }
  return choice(
    'playwright',
    undefined,
    [],
    undefined,
    `Playwright's own Chromium, which is not installed: run \`npx playwright install chromium\`, install chromium, or set CHROMIUM_PATH`,
  )
}

function choice(
  source: ChromiumChoice['source'],
  executablePath: string | undefined,
  args: string[],
  env: Record<string, string> | undefined,
  description: string,
): ChromiumChoice {
  return { source, executablePath, args: [...BASE_ARGS, ...args.filter((flag) => !BASE_ARGS.includes(flag))], env, description }
}

function definedOnly(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined))
}

export function realLookups(): ChromiumLookups {
  return {
    env: process.env,
    platform: process.platform,
    arch: process.arch,
    exists: (file) => fs.existsSync(file),
    async playwrightExecutable() {
      const { chromium } = await import('@playwright/test')
      return chromium.executablePath()
    },
    async sparticuz() {
      let chromium: typeof import('@sparticuz/chromium').default
      try {
        chromium = (await import('@sparticuz/chromium')).default
      } catch {
        return null
      }
      // Unpacks chromium.br, fonts and SwiftShader into the temp directory (once; later calls reuse it).
      const executablePath = await chromium.executablePath()
      return { executablePath, args: chromium.args, fontsDir: path.join(os.tmpdir(), 'fonts') }
    },
  }
}
