// `npm test`: build (type-check included), lint, Vitest (unit + integration against real anvil
// and SQLite), then Playwright (browser e2e, Electron e2e). Ends with one plain
// `N passed, N failed, N skipped` line summed from both runners' own reports.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { projectRoot } from './ensure-build.mjs'

const reports = fs.mkdtempSync(path.join(os.tmpdir(), 'tidewatch-test-'))
const run = (label, command, args, env = {}) => {
  process.stdout.write(`\n=== ${label} ===\n`)
  const result = spawnSync(command, args, { cwd: projectRoot, stdio: 'inherit', env: { ...process.env, ...env } })
  return result.status ?? 1
}
const bin = (name) => path.join(projectRoot, 'node_modules', '.bin', name)

const totals = { passed: 0, failed: 0, skipped: 0 }
let buildFailed = false

if (run('build', 'npm', ['run', 'build']) !== 0) {
  buildFailed = true
  totals.failed += 1
}

// Style and static checks: any ESLint warning fails the run (counted as one failure, not as a test).
if (run('lint', 'npm', ['run', 'lint']) !== 0) totals.failed += 1

if (!buildFailed) {
  const vitestReport = path.join(reports, 'vitest.json')
  const vitestStatus = run('vitest', bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${vitestReport}`])
  if (fs.existsSync(vitestReport)) {
    const report = JSON.parse(fs.readFileSync(vitestReport, 'utf8'))
    totals.passed += report.numPassedTests
    totals.failed += report.numFailedTests
    totals.skipped += report.numPendingTests + report.numTodoTests
    // A suite that failed to load has no tests to count but is still a failure.
    if (vitestStatus !== 0 && report.numFailedTests === 0) totals.failed += Math.max(1, report.numFailedTestSuites)
  } else if (vitestStatus !== 0) totals.failed += 1

  const playwrightReport = path.join(reports, 'playwright.json')
  const playwrightStatus = run('playwright', bin('playwright'), ['test', '--reporter=list,json'], { PLAYWRIGHT_JSON_OUTPUT_NAME: playwrightReport })
  if (fs.existsSync(playwrightReport)) {
    const { stats } = JSON.parse(fs.readFileSync(playwrightReport, 'utf8'))
    totals.passed += stats.expected + stats.flaky
    totals.failed += stats.unexpected
    totals.skipped += stats.skipped
    if (playwrightStatus !== 0 && stats.unexpected === 0) totals.failed += 1
  } else if (playwrightStatus !== 0) totals.failed += 1
}

console.log(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`)
process.exit(totals.failed > 0 ? 1 : 0)
