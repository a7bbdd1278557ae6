import { describe, expect, it } from 'vitest'
import { EMPTY_EXPORT_DRAFT, buildExportRequest, describeExportRequest, downloadHref, exportPercent } from './exportDraft'

describe('buildExportRequest', () => {
  it('sends only the format and connection for an empty form', () => {
    expect(buildExportRequest(EMPTY_EXPORT_DRAFT, 3)).toEqual({ ok: true, request: { format: 'csv', connectionId: 3 } })
  })

  it('reads block numbers with separators and sorts the subscriptions', () => {
    const built = buildExportRequest(
      { ...EMPTY_EXPORT_DRAFT, subscriptionIds: [9, 2], kind: 'log', fromBlock: '21,000,000', toBlock: '21_000_100', format: 'ndjson' },
      1,
    )
    expect(built).toEqual({
      ok: true,
      request: { format: 'ndjson', connectionId: 1, subscriptionIds: [2, 9], kind: 'log', fromBlock: 21_000_000, toBlock: 21_000_100 },
    })
  })

  it('makes the end minute inclusive', () => {
    const built = buildExportRequest({ ...EMPTY_EXPORT_DRAFT, fromTime: '2025-01-31T14:05', toTime: '2025-01-31T14:05' }, 1)
    if (!built.ok) throw new Error('expected a request')
    expect(built.request.fromTime).toBe(new Date('2025-01-31T14:05').getTime())
    expect(built.request.toTime).toBe(new Date('2025-01-31T14:05').getTime() + 59_999)
  })

  it('names the field at fault', () => {
    expect(buildExportRequest({ ...EMPTY_EXPORT_DRAFT, fromBlock: 'abc' }, 1)).toMatchObject({ ok: false, errors: { fromBlock: expect.any(String) } })
    expect(buildExportRequest({ ...EMPTY_EXPORT_DRAFT, fromBlock: '10', toBlock: '5' }, 1)).toMatchObject({
      ok: false,
      errors: { toBlock: 'The end block is before the start block' },
    })
    expect(buildExportRequest({ ...EMPTY_EXPORT_DRAFT, fromTime: '2025-01-31T14:05', toTime: '2025-01-30T14:05' }, 1)).toMatchObject({
      ok: false,
      errors: { toTime: 'The end time is before the start time' },
    })
  })
})

describe('downloadHref', () => {
  it('adds the token to a relative or absolute URL', () => {
    expect(downloadHref('/v1/exports/abc', 't o', 'http://127.0.0.1:7458/index.html')).toBe('http://127.0.0.1:7458/v1/exports/abc?token=t+o')
    expect(downloadHref('http://127.0.0.1:7458/x?a=1', 'tok', 'http://127.0.0.1:7458/')).toBe('http://127.0.0.1:7458/x?a=1&token=tok')
    expect(downloadHref('/x', null, 'http://h/')).toBe('http://h/x')
  })
})

describe('progress text', () => {
  it('rounds and clamps the percentage', () => {
    expect(exportPercent(0, 0)).toBeNull()
    expect(exportPercent(1, 3)).toBe(33)
    expect(exportPercent(5, 3)).toBe(100)
  })

  it('describes what runs', () => {
    expect(describeExportRequest({ format: 'csv', subscriptionIds: [1], kind: 'head', fromBlock: 1000 }, () => 'Heads')).toBe(
      'CSV · Heads · Blocks (new heads) · blocks #1,000 to the latest',
    )
  })
})
