/**
 * Headless exports: files go to `<data-dir>/exports/`, and the browser downloads them from
 * `/exports/<name>` (token required, like every endpoint). Like the rest of the data
 * directory, the folder is owner-only (0700) and its files 0600.
 */
import fs from 'node:fs'
import path from 'node:path'
import { makeFilePrivate, makePrivateDir, PRIVATE_FILE_MODE } from '../private-files'
import type { ExportDestination } from './export-service'

export const EXPORTS_PATH = '/exports/'

export function exportsDir(dataDir: string): string {
  return path.join(dataDir, 'exports')
}

export function exportsFolderDestination(dataDir: string): (suggestedName: string) => Promise<ExportDestination> {
  return async (suggestedName) => {
    makePrivateDir(exportsDir(dataDir))
    return { file: path.join(exportsDir(dataDir), suggestedName), downloadUrl: `${EXPORTS_PATH}${encodeURIComponent(suggestedName)}`, mode: PRIVATE_FILE_MODE }
  }
}

/** Tightens an exports folder left readable by an earlier version, files included; none is fine. */
export function makeExportsPrivate(dataDir: string): void {
  const dir = exportsDir(dataDir)
  if (!fs.existsSync(dir)) return
  makePrivateDir(dir)
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) if (entry.isFile()) makeFilePrivate(path.join(dir, entry.name))
}
