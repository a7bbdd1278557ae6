/**
 * The data directory holds the API token, the key of the saved endpoint URLs and a store
 * of everything watched: only its owner may read any of it. Each file is created private
 * by whoever writes it, and copies left readable by earlier versions (or loosened by
 * hand) are tightened when Tidewatch starts.
 */
import fs from 'node:fs'
import { errorText } from './error-text'

export const PRIVATE_DIR_MODE = 0o700
export const PRIVATE_FILE_MODE = 0o600

/** Creates the directory (and its parents) if missing, and makes it owner-only either way. */
export function makePrivateDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE })
    fs.chmodSync(dir, PRIVATE_DIR_MODE)
  } catch (error) {
    throw new Error(`Cannot make ${dir} private (mode 0700): ${errorText(error)}. It must be a directory of the user running Tidewatch.`)
  }
}

/** Makes an existing file owner-only; a file that does not exist is left so. */
export function makeFilePrivate(file: string): void {
  try {
    fs.chmodSync(file, PRIVATE_FILE_MODE)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
    throw new Error(`Cannot make ${file} private (mode 0600): ${errorText(error)}. It must be a file of the user running Tidewatch.`)
  }
}
