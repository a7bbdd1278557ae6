import { describe, expect, it } from 'vitest'
import { DEFAULT_PORT, OptionsError, parseServeOptions, plainHttpWarning } from './options'

describe('serve options', () => {
  it('reads every documented option', () => {
    const options = parseServeOptions([
      'serve',
      '--rpc',
      'ws://127.0.0.1:8545',
      '--http',
      'http://127.0.0.1:8545',
      '--data-dir',
      '/tmp/tw',
      '--host',
      '0.0.0.0',
      '--port',
      '9000',
      '--confirmations',
      '12',
      '--store',
      'postgres://tide@db.example/tidewatch',
    ])
    expect(options).toEqual({
      rpc: 'ws://127.0.0.1:8545',
      http: 'http://127.0.0.1:8545',
      dataDir: '/tmp/tw',
      host: '0.0.0.0',
      port: 9000,
      confirmations: 12,
      store: 'postgres://tide@db.example/tidewatch',
    })
  })

  it('has the documented defaults', () => {
    const options = parseServeOptions([])
    expect(options).toMatchObject({ rpc: undefined, host: '127.0.0.1', port: DEFAULT_PORT, confirmations: undefined })
  })

  it.each([
    [['--rpc', 'http://127.0.0.1:8545'], /--rpc must be a ws:\/\/ or wss:\/\/ URL/],
    [['--rpc', 'not a url'], /is not a URL/],
    [['--port', 'eighty'], /--port must be a whole number/],
    [['--port', '70000'], /between 0 and 65535/],
    [['--confirmations', '-1'], /--confirmations/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['--store', 'mysql://tide@db/tidewatch'], /--store must be a postgres:\/\/ URL, got mysql:\/\//],
  ])('rejects %j with a clear message', (argv, message) => {
    expect(() => parseServeOptions(argv)).toThrow(OptionsError)
    expect(() => parseServeOptions(argv)).toThrow(message)
  })

  it('never repeats the password of a --store URL it rejects', () => {
    expect(() => parseServeOptions(['--store', 'postgres://tide:s3cret@db example/tidewatch'])).toThrow(OptionsError)
    expect(() => parseServeOptions(['--store', 'postgres://tide:s3cret@db example/tidewatch'])).not.toThrow(/s3cret/)
  })

  it.each([['0.0.0.0'], ['::'], ['192.168.1.20'], ['tidewatch.lan']])('warns that the token travels in clear text on --host %s', (host) => {
    expect(plainHttpWarning(host)).toMatch(new RegExp(`--host ${host.replace(/\./g, '\\.')} .*plain HTTP.*API token.*clear text`))
  })

  it.each([['127.0.0.1'], ['127.0.0.2'], ['localhost'], ['::1'], ['[::1]']])('says nothing on the loopback host %s', (host) => {
    expect(plainHttpWarning(host)).toBeNull()
  })
})
