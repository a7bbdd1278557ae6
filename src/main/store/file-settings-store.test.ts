import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { FileSettingsStore, SETTINGS_FILE } from './file-settings-store'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})
const tempDir = (): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-settings-'))
  dirs.push(dir)
  return dir
}
const bounds = z.object({ width: z.number(), height: z.number() })

describe('FileSettingsStore (a shared store keeps this machine’s settings here)', () => {
  it('keeps values across a reopen, in a private file, and answers the fallback for what is missing or does not fit', () => {
    const dir = tempDir()
    const logs: string[] = []
    const settings = new FileSettingsStore(dir, (m) => logs.push(m))
    expect(settings.get('windowBounds', bounds, null)).toBeNull()
    settings.set('windowBounds', { width: 1280, height: 820 })
    settings.set('preferences', { demoNoteDismissed: true })
    settings.set('windowBounds', { width: 1000, height: 700 })
    expect(fs.statSync(path.join(dir, SETTINGS_FILE)).mode & 0o777).toBe(0o600)
    const reopened = new FileSettingsStore(dir, (m) => logs.push(m))
    expect(reopened.get('windowBounds', bounds, null)).toEqual({ width: 1000, height: 700 })
    expect(reopened.get('preferences', z.object({ demoNoteDismissed: z.boolean() }), null)).toEqual({ demoNoteDismissed: true })
    expect(reopened.get('preferences', bounds, null)).toBeNull()
    expect(fs.readdirSync(dir)).toEqual([SETTINGS_FILE])
    expect(logs).toEqual([])
  })

  it('sets a damaged file aside, says so once, and starts from the defaults', () => {
    const dir = tempDir()
    fs.writeFileSync(path.join(dir, SETTINGS_FILE), '{"windowBounds": {"width": 12')
    const logs: string[] = []
    const settings = new FileSettingsStore(dir, (m) => logs.push(m))
    expect(settings.get('windowBounds', bounds, null)).toBeNull()
    expect(logs).toHaveLength(1)
    expect(logs[0]).toMatch(/could not be read .* moved to .*settings\.json\.damaged-\d+/)
    expect(fs.readdirSync(dir).filter((f) => f.startsWith(`${SETTINGS_FILE}.damaged-`))).toHaveLength(1)
    settings.set('windowBounds', { width: 1, height: 2 })
    expect(new FileSettingsStore(dir, () => undefined).get('windowBounds', bounds, null)).toEqual({ width: 1, height: 2 })
  })
})
