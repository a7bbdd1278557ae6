/**
 * The data directory must take writes before anything is created in it (the API token,
 * the key file, the store): a read-only directory would otherwise fail on whichever file
 * comes first, with an errno and no directory named.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

export class DataDirError extends Error {
  constructor(
    readonly dir: string,
    cause: unknown,
  ) {
    const code = (cause as { code?: string } | null)?.code ?? ''
    const readOnly = code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
    const detail = cause instanceof Error ? cause.message : String(cause)
    super(
      readOnly
        ? `The data directory ${dir} is read-only (${code}): Tidewatch keeps its store, API token and keys there. Make it writable or pick another with --data-dir.`
        : `The data directory ${dir} cannot be used: ${detail}. Pick another with --data-dir.`,
    )
    this.name = 'DataDirError'
  }
}

/** Creates the directory if needed and proves it writable with a file created and removed. */
export function ensureWritableDataDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    // A real write: access(W_OK) says yes to root on a directory it may not write (read-only mounts).
    const probe = path.join(dir, `.write-test-${process.pid}-${crypto.randomBytes(4).toString('hex')}`)
    fs.writeFileSync(probe, '', { flag: 'wx' })
    fs.rmSync(probe)
  } catch (error) {
    throw new DataDirError(dir, error)
  }
}
