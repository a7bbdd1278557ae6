/** A SecretBox over Electron's safeStorage (OS keychain backed). */
import type { SafeStorage } from 'electron'
import type { SecretBox } from '../store/secret-box'

export function createSafeStorageBox(safeStorage: Pick<SafeStorage, 'isEncryptionAvailable' | 'encryptString' | 'decryptString'>): SecretBox {
  if (!safeStorage.isEncryptionAvailable()) {
    throw new Error('The operating system offers no secret storage (safeStorage unavailable); Tidewatch will not keep API keys in clear text')
  }
  return {
    encrypt: (plain) => `ss1:${safeStorage.encryptString(plain).toString('base64')}`,
    decrypt: (sealed) => {
      if (!sealed.startsWith('ss1:')) throw new Error('Unknown secret format')
      return safeStorage.decryptString(Buffer.from(sealed.slice(4), 'base64'))
    },
  }
}
