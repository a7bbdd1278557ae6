import os from 'node:os'
import { describe, expect, it } from 'vitest'
import { createHostPolicy, decodePathSegment, isLoopbackHost, parseRequestTarget } from './request-guard'

describe('parseRequestTarget', () => {
  it('reads paths, `//` included, as paths', () => {
    expect(parseRequestTarget('/')?.pathname).toBe('/')
    expect(parseRequestTarget('//')?.pathname).toBe('//')
    expect(parseRequestTarget('//evil.example/x?token=a')?.pathname).toBe('//evil.example/x')
    expect(parseRequestTarget('/v1/stream?token=abc')?.searchParams.get('token')).toBe('abc')
  })

  it('answers null for targets that are not paths', () => {
    for (const target of [undefined, '', '*', 'http://127.0.0.1/', 'example.com:443']) expect(parseRequestTarget(target)).toBeNull()
  })
})

describe('decodePathSegment', () => {
  it('decodes valid escapes and answers null for malformed ones', () => {
    expect(decodePathSegment('/a%20b')).toBe('/a b')
    for (const bad of ['%zz', '%', '%E0%A4%A']) expect(decodePathSegment(bad)).toBeNull()
  })
})

describe('isLoopbackHost', () => {
  it('knows the loopback names and addresses', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) expect(isLoopbackHost(host), host).toBe(true)
    for (const host of ['0.0.0.0', '::', '192.168.1.2', 'example.com', 'localhost.example.com']) expect(isLoopbackHost(host), host).toBe(false)
  })
})

describe('createHostPolicy', () => {
  const loopback = createHostPolicy('127.0.0.1')

  it('accepts loopback Host headers with or without a port', () => {
    for (const host of ['127.0.0.1', '127.0.0.1:7457', 'localhost:7457', 'LocalHost', '[::1]:7457']) expect(loopback.refuseRequest({ host }), host).toBeNull()
  })

  it('refuses other names, odd forms and a missing Host', () => {
    for (const host of ['evil.example', 'evil.example:7457', 'localhost.', '127.0.0.1@evil.example', 'a b', '127.0.0.1/x', '', '[::1', '127.0.0.1:99999']) {
      expect(loopback.refuseRequest({ host }), host).toMatch(/^Forbidden: .*Host header/)
    }
    expect(loopback.refuseRequest({})).toMatch(/no Host header/)
  })

  it('adds the configured host', () => {
    expect(createHostPolicy('tidewatch.lan').refuseRequest({ host: 'tidewatch.lan:7457' })).toBeNull()
    expect(createHostPolicy('10.1.2.3').refuseRequest({ host: '10.1.2.3:7457' })).toBeNull()
    expect(loopback.refuseRequest({ host: '10.1.2.3:7457' })).not.toBeNull()
  })

  it("on a wildcard address, accepts this machine's own addresses", () => {
    const wildcard = createHostPolicy('0.0.0.0')
    const address = Object.values(os.networkInterfaces())
      .flat()
      .find((entry) => entry?.family === 'IPv4' && !entry.internal)?.address
    if (address) expect(wildcard.refuseRequest({ host: `${address}:7457` })).toBeNull()
    expect(wildcard.refuseRequest({ host: '0.0.0.0:7457' })).toBeNull()
    expect(wildcard.refuseRequest({ host: 'attacker.example:7457' })).not.toBeNull()
  })

  it('lets upgrades through from their own origin or without one, and refuses other origins', () => {
    const host = '127.0.0.1:7457'
    expect(loopback.refuseUpgrade({ host })).toBeNull()
    expect(loopback.refuseUpgrade({ host, origin: 'http://127.0.0.1:7457' })).toBeNull()
    expect(loopback.refuseUpgrade({ host: 'localhost:7457', origin: 'http://localhost:7457' })).toBeNull()
    for (const origin of ['http://evil.example', 'http://127.0.0.1:8000', 'https://127.0.0.1:7457', 'http://localhost:7457', 'null', 'file://']) {
      expect(loopback.refuseUpgrade({ host, origin }), origin).toMatch(/another origin/)
    }
    expect(loopback.refuseUpgrade({ host, 'sec-websocket-origin': 'http://evil.example' })).toMatch(/another origin/)
    expect(loopback.refuseUpgrade({ host: 'evil.example' })).toMatch(/Host header/)
  })
})
