/**
 * Where the package's own files are, whether this code runs from src/ (tests) or from the
 * electron-vite bundle in out/main (app and headless mode).
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

function findProjectRoot(start: string): string {
  let dir = start
  for (;;) {
    const manifest = path.join(dir, 'package.json')
    if (fs.existsSync(manifest)) {
      const { name } = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string }
      if (name === 'tidewatch') return dir
    }
    const parent = path.dirname(dir)
    if (parent === dir) throw new Error(`Cannot find the Tidewatch package root above ${start}`)
    dir = parent
  }
}

export const projectRoot = findProjectRoot(path.dirname(fileURLToPath(import.meta.url)))
export const rendererRoot = path.join(projectRoot, 'out', 'renderer')
export const demoTokenArtifact = path.join(projectRoot, 'build', 'contracts', 'DemoToken.json')

export function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version
}
