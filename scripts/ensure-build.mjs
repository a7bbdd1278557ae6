// Builds the app when out/ is missing or older than the sources, so `npm start`,
// `npm run serve` and the bin work from a fresh clone without a separate build step.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

function newestMtime(dir) {
  let newest = 0
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs)
  }
  return newest
}

const outputs = ['out/main/serve.js', 'out/main/index.js', 'out/preload/index.cjs', 'out/renderer/index.html']

export function isBuildCurrent() {
  const files = outputs.map((file) => path.join(projectRoot, file))
  if (!files.every((file) => fs.existsSync(file))) return false
  // The compile script rewrites the artifact only when the contract changed; existence is enough here.
  if (!fs.existsSync(path.join(projectRoot, 'build/contracts/DemoToken.json'))) return false
  const built = Math.min(...files.map((file) => fs.statSync(file).mtimeMs))
  const sources = Math.max(newestMtime(path.join(projectRoot, 'src')), fs.statSync(path.join(projectRoot, 'electron.vite.config.ts')).mtimeMs)
  return built >= sources
}

export function ensureBuild() {
  if (isBuildCurrent()) return
  process.stderr.write('Building Tidewatch (electron-vite build)…\n')
  const run = (args) => spawnSync(process.execPath, args, { cwd: projectRoot, stdio: ['ignore', 'ignore', 'inherit'] })
  const steps = [
    [path.join(projectRoot, 'scripts/compile-contracts.mjs')],
    [path.join(projectRoot, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'],
  ]
  for (const step of steps) {
    const result = run(step)
    if (result.status !== 0) {
      process.stderr.write(`Build failed (${path.basename(step[0])}); run \`npm run build\` to see why.\n`)
      process.exit(1)
    }
  }
}
