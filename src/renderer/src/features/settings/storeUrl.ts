import { storeUrlSchema } from '@shared/contract'

export type StoreUrlDraft = { ok: true; url: string } | { ok: false; field: 'url' | 'password'; message: string }

/**
 * The PostgreSQL URL to save from the form: the URL as typed, with the password field (when
 * filled) put in as its password, percent-encoded. The password is given in one place only.
 * Messages never repeat what was typed.
 */
export function composeStoreUrl(url: string, password: string): StoreUrlDraft {
  const checked = storeUrlSchema.safeParse(url)
  if (!checked.success) return { ok: false, field: 'url', message: checked.error.issues[0]?.message ?? 'Not a PostgreSQL URL' }
  if (password === '') return { ok: true, url: checked.data }
  const parsed = new URL(checked.data)
  if (parsed.password !== '') {
    return { ok: false, field: 'password', message: 'The URL already has a password: leave this field empty, or take the password out of the URL' }
  }
  parsed.password = password
  // A URL without a host (a Unix socket in the query) has no place for a password.
  if (parsed.password === '') return { ok: false, field: 'password', message: 'This URL names no host, so it cannot carry a password: give it in ~/.pgpass' }
  return { ok: true, url: parsed.toString() }
}
