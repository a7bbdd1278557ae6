/**
 * Doyensec's Electronegativity over the Electron glue (src/main/electron), the preload
 * (src/preload) and the page they load (src/renderer/index.html, for its CSP): every
 * finding must be in the allow-list below, each with the reason it stands, and every
 * allow-list entry must still be found (so the list cannot go stale).
 */
import fs from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

interface Issue {
  id: string
  file: string
  location: { line: number; column: number }
  description: string
  manualReview: boolean
}

interface ScanResult {
  errors: { file: string; message: string; tolerable: boolean }[]
  issues: Issue[]
}

type Run = (options: Record<string, unknown>) => Promise<ScanResult>

const require = createRequire(import.meta.url)
const electronegativity = require('@doyensec/electronegativity') as Run | { default: Run }
const run: Run = typeof electronegativity === 'function' ? electronegativity : electronegativity.default

const root = path.resolve(__dirname, '../../..')

const ALLOWED: { id: string; file: string; description?: RegExp; why: string }[] = [
  {
    id: 'PRELOAD_JS_CHECK',
    file: 'main/electron/app-main.ts',
    // A request to review the preload, raised wherever a window has one. Reviewed: it runs
    // sandboxed, requires only 'electron', and exposes through contextBridge one function per
    // contract command and one on<Event> per event, never ipcRenderer itself;
    // src/preload/preload.test.ts loads the built bundle and checks exactly that.
    why: 'the preload is reviewed and tested',
  },
  {
    id: 'OPEN_EXTERNAL_JS_CHECK',
    file: 'main/electron/external-links.ts',
    // A request to review shell.openExternal with a URL from the renderer. Reviewed: it is
    // called only for URLs isKnownExplorerUrl (src/main/chain-info/known-chains.ts) accepts,
    // https with no userinfo, on the origin (and under the path) of a known chain's block
    // explorer; anything else is refused and logged, and no window is ever opened.
    why: 'openExternal only opens https pages of known block explorers',
  },
  {
    id: 'CSP_GLOBAL_CHECK',
    file: 'renderer/index.html',
    description: /seems to be vulnerable/,
    // csp-evaluator's one note on the policy (a "maybe", for manual review): script-src 'self'
    // "can be problematic if you host JSONP, Angular or user uploaded files". Tidewatch's
    // origin serves only the built renderer (src/main/server/static-files.ts); exports are
    // downloads with a non-script type and nosniff, so no script can come from them.
    why: "script-src 'self' serves only the built renderer",
  },
]

let stage: string
let result: ScanResult

beforeAll(async () => {
  // One scan over the three, so that the global checks (navigation limits, permission
  // handler, CSP) see the window, its preload and its page together.
  stage = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-electronegativity-'))
  fs.cpSync(path.join(root, 'src/main/electron'), path.join(stage, 'main/electron'), { recursive: true })
  fs.cpSync(path.join(root, 'src/preload'), path.join(stage, 'preload'), { recursive: true })
  fs.mkdirSync(path.join(stage, 'renderer'))
  fs.copyFileSync(path.join(root, 'src/renderer/index.html'), path.join(stage, 'renderer/index.html'))
  const electronVersion = (JSON.parse(fs.readFileSync(path.join(root, 'node_modules/electron/package.json'), 'utf8')) as { version: string }).version
  result = await run({
    input: stage,
    isRelative: true,
    electronVersionOverride: electronVersion,
    // Compares the Electron version with GitHub's release list (a network fetch on every
    // run): a dependency-freshness check for npm outdated/audit, not about this code.
    excludeFromScan: ['AvailableSecurityFixesGlobalCheck'],
  })
})

afterAll(() => {
  if (stage) fs.rmSync(stage, { recursive: true, force: true })
})

const allowedEntry = (issue: Issue) =>
  ALLOWED.find((entry) => entry.id === issue.id && entry.file === issue.file && (!entry.description || entry.description.test(issue.description)))

describe('Electronegativity', () => {
  it('parses every file it scans', () => {
    expect(result.errors.filter((e) => !e.tolerable)).toEqual([])
  })

  it('finds nothing outside the allow-list, and everything on it', () => {
    const unexplained = result.issues.filter((issue) => !allowedEntry(issue)).map((i) => `${i.id} ${i.file}:${i.location.line} ${i.description}`)
    expect(unexplained).toEqual([])
    const stale = ALLOWED.filter((entry) => !result.issues.some((issue) => allowedEntry(issue) === entry)).map((e) => `${e.id} ${e.file}`)
    expect(stale).toEqual([])
  })

  it("has only the script-src 'self' note to make about the renderer's CSP", () => {
    // The evaluator Electronegativity itself uses, resolved from where it is installed.
    const csp = createRequire(require.resolve('@doyensec/electronegativity'))('@doyensec/csp-evaluator') as {
      CspParser: new (policy: string) => { csp: unknown }
      CspEvaluator: new (csp: unknown, version: unknown) => { evaluate(): { directive: string; value: string; description: string }[] }
      Version: { CSP3: unknown }
    }
    const policy = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"/i.exec(
      fs.readFileSync(path.join(root, 'src/renderer/index.html'), 'utf8'),
    )![1]!
    const findings = new csp.CspEvaluator(new csp.CspParser(policy).csp, csp.Version.CSP3).evaluate()
    expect(findings.map((f) => [f.directive, f.value])).toEqual([['script-src', "'self'"]])
  })
})
