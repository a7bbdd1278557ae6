import { describe, expect, it } from 'vitest'
import { composeStoreUrl } from './storeUrl'

describe('composeStoreUrl', () => {
  it('takes the URL as typed when no password is given', () => {
    expect(composeStoreUrl('  postgres://viewer@db.example:5432/shared ', '')).toEqual({ ok: true, url: 'postgres://viewer@db.example:5432/shared' })
    expect(composeStoreUrl('postgresql://viewer:inline@db.example/shared', '')).toEqual({ ok: true, url: 'postgresql://viewer:inline@db.example/shared' })
  })

  it('puts the password field into the URL, percent-encoded', () => {
    const composed = composeStoreUrl('postgres://viewer@db.example:5432/shared?sslmode=require', 'p@ss:w/rd #1')
    expect(composed).toEqual({ ok: true, url: 'postgres://viewer:p%40ss%3Aw%2Frd%20%231@db.example:5432/shared?sslmode=require' })
    if (!composed.ok) throw new Error('expected a URL')
    expect(decodeURIComponent(new URL(composed.url).password)).toBe('p@ss:w/rd #1')
  })

  it('refuses a password given twice, or where the URL has no host for it', () => {
    expect(composeStoreUrl('postgres://viewer:inline@db.example/shared', 'other')).toMatchObject({ ok: false, field: 'password' })
    expect(composeStoreUrl('postgres:///shared?host=/var/run/postgresql', 'secret')).toMatchObject({ ok: false, field: 'password' })
  })

  it('says what to type for a URL that is not PostgreSQL, without repeating it', () => {
    const wrong = composeStoreUrl('mysql://root:topsecret@db.example/x', '')
    expect(wrong).toEqual({ ok: false, field: 'url', message: expect.stringMatching(/postgres:\/\//) })
    expect(JSON.stringify(wrong)).not.toContain('topsecret')
    expect(composeStoreUrl('', 'secret')).toMatchObject({ ok: false, field: 'url', message: expect.stringMatching(/Enter a PostgreSQL URL/) })
  })
})
