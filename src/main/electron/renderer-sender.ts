/**
 * Whether an IPC message comes from Tidewatch's own window: its frame shows the renderer's
 * index.html from disk. The frame's URL is a file: URL and the renderer's place a file path,
 * so they are compared as paths, through fileURLToPath: a URL's pathname is
 * `/C:/Program%20Files/...` on Windows, never equal to `C:\Program Files\...`.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export function isTrustedRendererUrl(url: string | undefined, rendererIndex: string, platform: NodeJS.Platform = process.platform): boolean {
  if (!url || !URL.canParse(url)) return false
  const parsed = new URL(url)
  if (parsed.protocol !== 'file:') return false
  const windows = platform === 'win32'
  let file: string
  try {
    // Throws for what no local file can be: encoded separators, a relative path on Windows.
    file = fileURLToPath(parsed, { windows })
  } catch {
    return false
  }
  const paths = windows ? path.win32 : path.posix
  const a = paths.normalize(file)
  const b = paths.normalize(rendererIndex)
  // Windows paths are case-insensitive (c:\ and C:\ are the same drive).
  return windows ? a.toLowerCase() === b.toLowerCase() : a === b
}
