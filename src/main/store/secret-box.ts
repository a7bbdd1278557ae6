/**
 * Encryption at rest for endpoint URLs (they carry provider API keys). Electron supplies a
 * box backed by `safeStorage`; headless mode uses AES-256-GCM with a key file (mode 0600)
 * in the data directory.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { makeFilePrivate, makePrivateDir, PRIVATE_FILE_MODE } from '../private-files'

export interface SecretBox {
  encrypt(plain: string): string
  decrypt(sealed: string): string
}

const KEY_FILE = 'secret.key'

export function createKeyFileSecretBox(dataDir: string): SecretBox {
  const keyPath = path.join(dataDir, KEY_FILE)
  let key: Buffer
  if (fs.existsSync(keyPath)) {
    key = Buffer.from(fs.readFileSync(keyPath, 'utf8').trim(), 'base64')
    if (key.length !== 32) throw new Error(`${keyPath} is not a Tidewatch key file (expected 32 bytes, base64)`)
    // Tighten a copy that was loosened by hand: the key opens every saved endpoint URL.
    makeFilePrivate(keyPath)
  } else {
    key = crypto.randomBytes(32)
    makePrivateDir(dataDir)
    fs.writeFileSync(keyPath, key.toString('base64'), { mode: PRIVATE_FILE_MODE, flag: 'wx' })
  }
  return {
    encrypt(plain) {
      const iv = crypto.randomBytes(12)
      const cipher = crypto.createCipheriv('aes-256-gcm', key, iv)
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
      return `v1:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`
    },
    decrypt(sealed) {
      if (!sealed.startsWith('v1:')) throw new Error('Unknown secret format')
      const raw = Buffer.from(sealed.slice(3), 'base64')
      const decipher = crypto.createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12))
      decipher.setAuthTag(raw.subarray(12, 28))
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')
    },
  }
}
