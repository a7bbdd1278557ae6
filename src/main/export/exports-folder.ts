/**
 * Headless exports: files go to `<data-dir>/exports/`, and the browser downloads them from
 * `/exports/<name>` (token required, like every endpoint).
 */
import fs from 'node:fs'
import path from 'node:path'
import type { ExportDestination } from './export-service'

export const EXPORTS_PATH = '/exports/'

export function exportsDir(dataDir: string): string {
  return path.join(dataDir, 'exports')
}

export function exportsFolderDestination(dataDir: string): (suggestedName: string) => Promise<ExportDestination> {
  return async (suggestedName) => {
    fs.mkdirSync(exportsDir(dataDir), { recursive: true })
    return { file: path.join(exportsDir(dataDir), suggestedName), downloadUrl: `${EXPORTS_PATH}${encodeURIComponent(suggestedName)}` }
  }
}
