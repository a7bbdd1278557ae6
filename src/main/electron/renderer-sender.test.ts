/** The IPC sender check compares file paths, not a URL pathname with a path: Windows included. */
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { isTrustedRendererUrl } from './renderer-sender'

describe('isTrustedRendererUrl', () => {
  const windowsIndex = 'C:\\Users\\Ana Lee\\AppData\\Local\\Programs\\Tidewatch\\resources\\app.asar\\out\\renderer\\index.html'

  it('accepts the renderer on Windows, as Electron spells its file: URL', () => {
    const url = pathToFileURL(windowsIndex, { windows: true }).href
    expect(url).toBe('file:///C:/Users/Ana%20Lee/AppData/Local/Programs/Tidewatch/resources/app.asar/out/renderer/index.html')
    expect(isTrustedRendererUrl(url, windowsIndex, 'win32')).toBe(true)
    // A hash route or a query is still the same page; the drive letter's case does not matter.
    expect(isTrustedRendererUrl(`${url}#/connections`, windowsIndex, 'win32')).toBe(true)
    expect(isTrustedRendererUrl(url.replace('file:///C:', 'file:///c:'), windowsIndex, 'win32')).toBe(true)
  })

  it('refuses other files, other schemes and tricks on Windows', () => {
    const other = pathToFileURL('C:\\Users\\Ana Lee\\Downloads\\index.html', { windows: true }).href
    expect(isTrustedRendererUrl(other, windowsIndex, 'win32')).toBe(false)
    expect(
      isTrustedRendererUrl(
        'https://evil.example/C:/Users/Ana%20Lee/AppData/Local/Programs/Tidewatch/resources/app.asar/out/renderer/index.html',
        windowsIndex,
        'win32',
      ),
    ).toBe(false)
    expect(
      isTrustedRendererUrl('file:///C:/Users/Ana%20Lee/AppData/Local/Programs/Tidewatch/resources/app.asar/out/renderer%5Cindex.html', windowsIndex, 'win32'),
    ).toBe(false)
    expect(
      isTrustedRendererUrl(
        'file://evil-host/C$/Users/Ana%20Lee/AppData/Local/Programs/Tidewatch/resources/app.asar/out/renderer/index.html',
        windowsIndex,
        'win32',
      ),
    ).toBe(false)
    expect(isTrustedRendererUrl(undefined, windowsIndex, 'win32')).toBe(false)
    expect(isTrustedRendererUrl('not a url', windowsIndex, 'win32')).toBe(false)
  })

  it('accepts the renderer on macOS and Linux, spaces and all, and nothing else', () => {
    const index = '/Applications/Tide Watch.app/Contents/Resources/app.asar/out/renderer/index.html'
    expect(isTrustedRendererUrl(pathToFileURL(index).href, index, 'darwin')).toBe(true)
    expect(isTrustedRendererUrl(`file://${index}`, index, 'linux')).toBe(true)
    expect(isTrustedRendererUrl(pathToFileURL('/tmp/index.html').href, index, 'linux')).toBe(false)
    // Paths are case-sensitive here.
    expect(isTrustedRendererUrl(pathToFileURL(index.toLowerCase()).href, index, 'linux')).toBe(false)
  })
})
