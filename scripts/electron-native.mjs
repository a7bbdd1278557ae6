// The Electron-ABI copy of better-sqlite3, built on first desktop launch into its own
// folder (.electron-native/<electron version>/) and loaded through better-sqlite3's
// `nativeBinding` option, so Node (tests, headless mode) keeps the default build.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { projectRoot } from './ensure-build.mjs'

const require = createRequire(import.meta.url)

function npmNodeGyp() {
  if (process.env.npm_config_node_gyp && fs.existsSync(process.env.npm_config_node_gyp)) return process.env.npm_config_node_gyp
  const npmCli = process.env.npm_execpath
  if (npmCli) {
    const candidate = path.join(path.dirname(npmCli), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')
    if (fs.existsSync(candidate)) return candidate
  }
  return null
}

/** @returns {{ path: string } | { error: string }} */
export function electronSqliteBinding() {
  const electronVersion = JSON.parse(fs.readFileSync(require.resolve('electron/package.json'), 'utf8')).version
  const target = path.join(projectRoot, '.electron-native', electronVersion, 'better_sqlite3.node')
  if (fs.existsSync(target)) return { path: target }
  const gyp = npmNodeGyp()
  if (!gyp) return { error: 'node-gyp not found; run `npm start` through npm' }
  const source = path.dirname(require.resolve('better-sqlite3/package.json'))
  const work = path.join(projectRoot, '.electron-native', `build-${electronVersion}`)
  fs.rmSync(work, { recursive: true, force: true })
  fs.cpSync(source, work, { recursive: true, filter: (file) => !file.includes(`${path.sep}build${path.sep}`) })
  console.log(`Building better-sqlite3 for Electron ${electronVersion} (first launch only, about a minute)…`)
  const result = spawnSync(
    process.execPath,
    [gyp, 'rebuild', '--release', `--target=${electronVersion}`, '--dist-url=https://electronjs.org/headers', '--runtime=electron'],
    {
      cwd: work,
      encoding: 'utf8',
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  )
  const built = path.join(work, 'build', 'Release', 'better_sqlite3.node')
  if (result.status !== 0 || !fs.existsSync(built)) {
    return {
      error:
        (result.stderr ?? '')
          .split('\n')
          .find((line) => /ERR!|error/i.test(line))
          ?.trim()
          .slice(0, 160) ?? 'node-gyp failed',
    }
  }
  fs.mkdirSync(path.dirname(target), { recursive: true })
  fs.copyFileSync(built, target)
  fs.rmSync(work, { recursive: true, force: true })
  return { path: target }
}
