/**
 * WebSocket frames to the built `tidewatch serve`'s `/v1/stream`, `/v1/rpc` and `/ui`:
 * malformed JSON, JSON of the wrong shape, fields of the wrong type, huge numbers, deep
 * nesting, binary frames, frames near and over the size limit. Every bad frame gets the
 * error PROTOCOL.md names for it (`invalid_json`/`invalid_request` on /v1/stream,
 * -32700/-32600/-32602 on /v1/rpc, `invalid_request` on /ui), no answer carries the API
 * token or the upstream URL's key, and after every batch the process is alive and serving.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { waitFor } from '../helpers/scripted-server'
import { fuzzSeed, leakedSecret, startFuzzTarget, type FuzzTarget } from './fuzz-target'

const seed = fuzzSeed('websocket')
/** The server's frame limit (src/main/server/http-server.ts MAX_FRAME_BYTES). */
const MAX_FRAME_BYTES = 16 * 1024 * 1024
let target: FuzzTarget
beforeAll(async () => {
  target = await startFuzzTarget()
}, 60_000)
afterAll(async () => target?.close())

/** One client socket: every frame received, in order, checked for secrets on arrival. */
class FuzzSocket {
  private readonly received: unknown[] = []
  private read = 0
  readonly leaks: string[] = []
  closeCode: number | null = null

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const text = data.toString()
      const leak = leakedSecret(text, target.secrets)
      if (leak) this.leaks.push(text.slice(0, 300))
      this.received.push(JSON.parse(text))
    })
    socket.on('close', (code) => (this.closeCode = code))
  }

  static async open(path: string): Promise<FuzzSocket> {
    const socket = new WebSocket(`${target.wsBase}${path.slice(1)}?token=${target.token}`, { maxPayload: 64 * 1024 * 1024 })
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject))
    return new FuzzSocket(socket)
  }

  send(frame: string | Buffer, binary = false): void {
    this.socket.send(frame, { binary })
  }

  /** The next frame received that `wanted` accepts; frames it skips (UI events) are dropped. */
  async next(label: string, wanted: (frame: unknown) => boolean = () => true): Promise<unknown> {
    return waitFor(
      label,
      () => {
        while (this.read < this.received.length) {
          const frame = this.received[this.read++]
          if (wanted(frame)) return { frame }
        }
        if (this.closeCode !== null) throw new Error(`${label}: the socket closed (${this.closeCode})`)
        return null
      },
      15_000,
      2,
    ).then((found) => found.frame)
  }

  /** Every frame received so far that `match` accepts, consumed or not. */
  all(match: (frame: unknown) => boolean): unknown[] {
    return this.received.filter(match)
  }

  /** Waits until a frame `match` accepts has been received, consumed or not. */
  async find(label: string, match: (frame: unknown) => boolean): Promise<unknown> {
    return waitFor(
      label,
      () => {
        const found = this.received.find(match)
        if (found !== undefined) return { found }
        if (this.closeCode !== null) throw new Error(`${label}: the socket closed (${this.closeCode})`)
        return null
      },
      15_000,
      2,
    ).then(({ found }) => found)
  }

  close(): void {
    this.socket.terminate()
  }
}

const RAW = '\u0000raw\u0000'
/** JSON text of `value`, with each RAW placeholder replaced by the next raw literal (for numbers JSON.stringify cannot write). */
function jsonText(value: unknown, raws: string[] = []): string {
  let i = 0
  return JSON.stringify(value).replaceAll(JSON.stringify(RAW), () => raws[i++] ?? 'null')
}
/** `[[[…]]]` nested `depth` deep, as text: JSON.stringify recurses and cannot write it. */
const nestedArrayText = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`
const parses = (text: string): boolean => {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}
const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

// Text that is not JSON: random strings, near-misses, unbalanced deep nesting.
const notJson = fc.oneof(
  fc.string({ maxLength: 200 }).filter((s) => !parses(s)),
  fc.constantFrom(
    '{',
    '[',
    '{"type":',
    '{"type":"ping"',
    'nul',
    'tru',
    '1e',
    '-',
    '"abc',
    '{"a":1,}',
    "{'type':'ping'}",
    'NaN',
    'Infinity',
    '0x10',
    '\u0000',
    '{"type":"ping","data":{}}}',
    '',
  ),
  fc.integer({ min: 1, max: 20_000 }).map((depth) => '['.repeat(depth)),
  fc.integer({ min: 1, max: 5_000 }).map((depth) => `${'{"a":'.repeat(depth)}1`),
)
// JSON that is valid but not an object: scalars, arrays, huge and tiny numbers, deep arrays.
const jsonNotObject = fc.oneof(
  fc
    .jsonValue({ maxDepth: 4 })
    .filter((value) => !isPlainObject(value))
    .map((value) => JSON.stringify(value)),
  fc.constantFrom('1e400', '-1e400', '123456789012345678901234567890', '[1e400]', '"\\ud800"', '-0', '5e-324', 'null', 'true', '[]', '[[]]'),
  fc.integer({ min: 1, max: 50_000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`),
)
const deepArray = fc.integer({ min: 2, max: 20_000 }).map((depth) => ({ depth }))

// ---- /v1/stream -------------------------------------------------------------------------

const STREAM_TYPES = [
  'newHeads',
  'logs',
  'newPendingTransactions',
  'alchemy_newFullPendingTransactions',
  'alchemy_filteredNewFullPendingTransactions',
  'alchemy_pendingTransactions',
  'alchemy_minedTransactions',
  'syncing',
  'unlisten',
  'ping',
]
type StreamExpectation = { type: 'error'; code: 'invalid_json' | 'invalid_request'; reqId: string | null } | { type: 'pong'; reqId: string | null }
interface FrameCase<E> {
  text: string
  binary: boolean
  /** Raw bytes of a binary frame, where they are not the text's UTF-8. */
  bytes?: Buffer
  expect: E
}

const reqIdArb = fc.string({ maxLength: 256 })
/** A corruption that makes any request invalid: [field, JSON value or RAW, raw literal]. */
const corruption: fc.Arbitrary<{ field: string; value: unknown; raw?: string }> = fc.oneof(
  fc.record({
    field: fc.constant('type'),
    value: fc.oneof(
      fc.string({ maxLength: 30 }).filter((t) => !STREAM_TYPES.includes(t)),
      fc.integer(),
      fc.constant(null),
      fc.boolean(),
      fc.constant({}),
      fc.constant(['ping']),
    ),
  }),
  fc.record({
    field: fc.constant('data'),
    value: fc.oneof(fc.constant(undefined), fc.constant(null), fc.integer(), fc.string({ maxLength: 10 }), fc.constant([]), fc.boolean()),
  }),
  fc.record({
    field: fc.constant('req_id'),
    value: fc.oneof(fc.integer(), fc.boolean(), fc.constant({}), fc.constant(['a']), fc.string({ minLength: 257, maxLength: 600 })),
  }),
  fc.record({
    field: fc.constantFrom('fetch', 'listen', 'irreversible_only'),
    value: fc.oneof(fc.integer(), fc.string({ maxLength: 5 }), fc.constant({}), fc.constant([true])),
  }),
  fc.record({
    field: fc.constant('start_block'),
    value: fc.oneof(fc.constantFrom(1.5, -0.5, '10', true, {}, []), fc.constant(2 ** 60), fc.constant(-(2 ** 60)), fc.constant(RAW)),
    raw: fc.constantFrom('1e400', '-1e400', '123456789012345678901234567890', '1.0000000001'),
  }),
  fc.record({
    field: fc.constant('with_progress'),
    value: fc.oneof(fc.constantFrom(0, -1, 2.5, '5', true, 2 ** 60), fc.constant(RAW)),
    raw: fc.constantFrom('1e400', '0.5'),
  }),
)
const streamBadRequest: fc.Arbitrary<FrameCase<StreamExpectation>> = fc
  .record({ type: fc.constantFrom(...STREAM_TYPES), reqId: fc.option(reqIdArb), corruption, binary: fc.boolean() })
  .map(({ type, reqId, corruption: { field, value, raw }, binary }) => {
    const request: Record<string, unknown> = { type, data: type === 'unlisten' ? { req_id: 'x' } : {} }
    if (reqId !== null) request.req_id = reqId
    if (value === undefined) delete request[field]
    else request[field] = value
    const finalReqId = typeof request.req_id === 'string' ? request.req_id : null
    return { text: jsonText(request, raw ? [raw] : []), binary, expect: { type: 'error', code: 'invalid_request', reqId: finalReqId } }
  })
// Data that no type accepts: bad addresses and topics, deep nesting where a topic should be.
const streamBadData: fc.Arbitrary<FrameCase<StreamExpectation>> = fc
  .record({
    reqId: fc.option(reqIdArb),
    data: fc.oneof(
      fc
        .string({ maxLength: 50 })
        .filter((s) => !/^\s*0x[0-9a-fA-F]{40}\s*$/.test(s))
        .map((address) => ({ value: { address }, raw: [] as string[] })),
      fc
        .constantFrom<unknown>(
          { address: 5 },
          { address: ['0xzz'] },
          { address: [] },
          { topics: 'nothex' },
          { topics: [5] },
          { topics: [{}] },
          { topics: [['0x1']] },
          { bogus: true },
        )
        .map((value) => ({ value, raw: [] as string[] })),
      deepArray.map(({ depth }) => ({ value: { topics: [RAW] }, raw: [nestedArrayText(depth)] })),
    ),
  })
  .map(({ reqId, data }) => ({
    text: jsonText({ type: 'logs', ...(reqId === null ? {} : { req_id: reqId }), data: data.value }, data.raw),
    binary: false,
    expect: { type: 'error', code: 'invalid_request', reqId },
  }))
const streamPing: fc.Arbitrary<FrameCase<StreamExpectation>> = fc
  .record({
    reqId: fc.option(reqIdArb),
    extra: fc.dictionary(
      fc.string({ maxLength: 8 }).map((k) => `x_${k}`),
      fc.jsonValue({ maxDepth: 3 }),
      { maxKeys: 3 },
    ),
    data: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
    binary: fc.boolean(),
  })
  .map(({ reqId, extra, data, binary }) => ({
    text: JSON.stringify({ ...extra, type: 'ping', ...(reqId === null ? {} : { req_id: reqId }), data }),
    binary,
    expect: { type: 'pong', reqId },
  }))
const streamCase: fc.Arbitrary<FrameCase<StreamExpectation>> = fc.oneof(
  notJson.map((text) => ({ text, binary: false, expect: { type: 'error', code: 'invalid_json', reqId: null } satisfies StreamExpectation })),
  fc
    .uint8Array({ maxLength: 300 })
    .map((array) => Buffer.from(array))
    .filter((bytes) => !parses(bytes.toString('utf8')))
    .map((bytes) => ({
      text: bytes.toString('latin1'),
      bytes,
      binary: true,
      expect: { type: 'error', code: 'invalid_json', reqId: null } satisfies StreamExpectation,
    })),
  jsonNotObject.map((text) => ({ text, binary: false, expect: { type: 'error', code: 'invalid_request', reqId: null } satisfies StreamExpectation })),
  streamBadRequest,
  streamBadData,
  streamPing,
)

function sendCase(socket: FuzzSocket, c: FrameCase<unknown>): void {
  socket.send(c.bytes ?? (c.binary ? Buffer.from(c.text, 'utf8') : c.text), c.binary)
}

async function checkStream(socket: FuzzSocket, c: FrameCase<StreamExpectation>): Promise<void> {
  sendCase(socket, c)
  const answer = (await socket.next('the answer')) as {
    type: string
    req_id: unknown
    data: { code?: unknown; message?: unknown; details?: { field?: unknown } }
  }
  const label = `${c.text.slice(0, 200)} answered ${JSON.stringify(answer).slice(0, 300)}`
  if (c.expect.type === 'pong') {
    expect(answer.type, label).toBe('pong')
    if (c.expect.reqId === null) expect(answer.req_id, label).toMatch(/^tw-\d+$/)
    else expect(answer.req_id, label).toBe(c.expect.reqId)
  } else {
    expect(answer.type, label).toBe('error')
    expect(answer.data.code, label).toBe(c.expect.code)
    expect(answer.req_id, label).toBe(c.expect.reqId)
    expect(typeof answer.data.message === 'string' && answer.data.message.length > 0, label).toBe(true)
    if (c.expect.code === 'invalid_request') expect(typeof answer.data.details?.field, label).toBe('string')
  }
  expect(socket.leaks).toEqual([])
}

// ---- /v1/rpc ----------------------------------------------------------------------------

type RpcExpectation = { code: number; id: string | number | null } | { batch: { code: number; id: string | number | null }[] }
const rpcId = fc.oneof(fc.string({ maxLength: 100 }), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(null))
const invalidRpcObject: fc.Arbitrary<{ value: Record<string, unknown>; raw: string[]; id: string | number | null }> = fc
  .record({
    id: fc.option(rpcId, { nil: undefined }),
    problem: fc.oneof(
      fc.record({ field: fc.constant('jsonrpc'), value: fc.constantFrom(undefined, '1.0', 2, null, '2.00') }),
      fc.record({ field: fc.constant('method'), value: fc.constantFrom(undefined, 5, null, {}, ['eth_chainId'], true) }),
      fc.record({ field: fc.constant('params'), value: fc.constantFrom(5, 'x', true) }),
      fc.record({ field: fc.constant('id'), value: fc.constantFrom(true, {}, [1], RAW) }),
    ),
  })
  .map(({ id, problem }) => {
    const value: Record<string, unknown> = { jsonrpc: '2.0', method: 'eth_chainId' }
    if (id !== undefined) value.id = id
    if (problem.value === undefined) delete value[problem.field]
    else value[problem.field] = problem.value
    const validId = problem.field === 'id' ? null : (id ?? null)
    return { value, raw: problem.value === RAW ? ['1e400'] : [], id: validId }
  })
const badSubscribeParams: fc.Arbitrary<{ params: unknown; raw: string[] }> = fc.oneof(
  fc
    .constantFrom<unknown>(
      {},
      { type: 'newHeads' },
      [],
      [5],
      [null],
      ['newHeads', {}, {}],
      ['logs', 5],
      ['logs', 'x'],
      ['logs', [1]],
      ['newHeads', { bogus: 1 }],
      ['logs', { address: '0xzz' }],
      ['logs', { topics: 'nothex' }],
      ['alchemy_filteredNewFullPendingTransactions', {}],
      ['syncing', { a: 1 }],
    )
    .map((params) => ({ params, raw: [] })),
  fc
    .string({ maxLength: 40 })
    .filter((t) => !STREAM_TYPES.includes(t))
    .map((type) => ({ params: [type], raw: [] })),
  deepArray.map(({ depth }) => ({ params: ['logs', { topics: [RAW] }], raw: [nestedArrayText(depth)] })),
)
const badUnsubscribeParams = fc.constantFrom<unknown>({}, [], [5], ['a', 'b'], [null], { id: '0x1' })
const rpcCase: fc.Arbitrary<FrameCase<RpcExpectation>> = fc.oneof(
  notJson.map((text) => ({ text, binary: false, expect: { code: -32700, id: null } })),
  jsonNotObject.filter((text) => !text.startsWith('[')).map((text) => ({ text, binary: false, expect: { code: -32600, id: null } })),
  fc.constant({ text: '[]', binary: false, expect: { code: -32600, id: null } }),
  fc.integer({ min: 1001, max: 3000 }).map((n) => ({
    text: JSON.stringify(Array.from({ length: n }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'eth_chainId' }))),
    binary: false,
    expect: { code: -32600, id: null },
  })),
  fc
    .record({ entry: invalidRpcObject, binary: fc.boolean() })
    .map(({ entry, binary }) => ({ text: jsonText(entry.value, entry.raw), binary, expect: { code: -32600, id: entry.id } })),
  fc
    .array(
      fc.oneof(
        invalidRpcObject,
        fc
          .jsonValue({ maxDepth: 2 })
          .filter((v) => !isPlainObject(v))
          .map((value) => ({ value, raw: [] as string[], id: null })),
      ),
      { minLength: 1, maxLength: 20 },
    )
    .map((entries) => ({
      text: `[${entries.map((e) => jsonText(e.value, e.raw)).join(',')}]`,
      binary: false,
      expect: { batch: entries.map((e) => ({ code: -32600, id: e.id })) },
    })),
  fc.record({ id: rpcId, subscribe: badSubscribeParams, binary: fc.boolean() }).map(({ id, subscribe, binary }) => ({
    text: jsonText({ jsonrpc: '2.0', id, method: 'eth_subscribe', params: subscribe.params }, subscribe.raw),
    binary,
    expect: { code: -32602, id },
  })),
  fc.record({ id: rpcId, params: badUnsubscribeParams }).map(({ id, params }) => ({
    text: JSON.stringify({ jsonrpc: '2.0', id, method: 'eth_unsubscribe', params }),
    binary: false,
    expect: { code: -32602, id },
  })),
  // Methods the upstream does not know: forwarded, and its -32601 comes back unchanged.
  fc
    .record({ id: rpcId, method: fc.stringMatching(/^[a-zA-Z0-9_]{1,20}$/).map((m) => `fuzz_${m}`) })
    .map(({ id, method }) => ({ text: JSON.stringify({ jsonrpc: '2.0', id, method, params: [] }), binary: false, expect: { code: -32601, id } })),
)

async function checkRpc(socket: FuzzSocket, c: FrameCase<RpcExpectation>): Promise<void> {
  sendCase(socket, c)
  const answer = await socket.next('the answer')
  const label = `${c.text.slice(0, 200)} answered ${JSON.stringify(answer).slice(0, 300)}`
  const checkOne = (frame: unknown, expected: { code: number; id: string | number | null }): void => {
    const one = frame as { jsonrpc?: unknown; id?: unknown; error?: { code?: unknown; message?: unknown } }
    expect(one.jsonrpc, label).toBe('2.0')
    expect(one.error?.code, label).toBe(expected.code)
    // As it travels: JSON has no -0.
    expect(one.id, label).toEqual(expected.id === null ? null : JSON.parse(JSON.stringify(expected.id)))
    expect(typeof one.error?.message === 'string' && one.error.message.length > 0, label).toBe(true)
  }
  if ('batch' in c.expect) {
    expect(Array.isArray(answer), label).toBe(true)
    const frames = answer as unknown[]
    expect(frames.length, label).toBe(c.expect.batch.length)
    c.expect.batch.forEach((expected, i) => checkOne(frames[i], expected))
  } else checkOne(answer, c.expect)
  expect(socket.leaks).toEqual([])
}

// ---- /ui --------------------------------------------------------------------------------

const READ_ONLY_COMMANDS = [
  'app.info',
  'connections.list',
  'heads.list',
  'subscriptions.list',
  'events.list',
  'localApi.get',
  'abis.list',
  'watchlist.list',
  'watchlist.activity',
]
const CHANGING_COMMANDS = [
  'connections.add',
  'connections.remove',
  'subscriptions.create',
  'subscriptions.pause',
  'subscriptions.resume',
  'subscriptions.remove',
  'subscriptions.update',
  'abis.add',
  'abis.remove',
  'watchlist.upsert',
  'watchlist.remove',
  'export.start',
  'export.cancel',
  'localApi.set',
]
type UiExpectation = { id: number | null; outcome: 'invalid_request' | 'answered' }
let uiIds = 1
const uiCase: fc.Arbitrary<FrameCase<UiExpectation>> = fc.oneof(
  notJson.map((text) => ({ text, binary: false, expect: { id: 0, outcome: 'invalid_request' } satisfies UiExpectation })),
  jsonNotObject.map((text) => ({ text, binary: false, expect: { id: 0, outcome: 'invalid_request' } satisfies UiExpectation })),
  fc
    .record({
      id: fc.oneof(fc.constantFrom(-1, 1.5, 2 ** 60), fc.string({ maxLength: 5 }), fc.constant(null), fc.constant(undefined)),
      command: fc.oneof(fc.constantFrom(...READ_ONLY_COMMANDS), fc.string({ maxLength: 20 })),
    })
    .map(({ id, command }) => {
      const frame: Record<string, unknown> = { command, payload: {} }
      if (id !== undefined) frame.id = id
      const expectedId = typeof id === 'number' ? id : 0
      return { text: JSON.stringify(frame), binary: false, expect: { id: expectedId, outcome: 'invalid_request' } satisfies UiExpectation }
    }),
  fc.record({ command: fc.string({ maxLength: 30 }).filter((c) => !READ_ONLY_COMMANDS.includes(c) && !CHANGING_COMMANDS.includes(c)) }).map(({ command }) => {
    const id = uiIds++
    return { text: JSON.stringify({ id, command, payload: {} }), binary: false, expect: { id, outcome: 'invalid_request' } satisfies UiExpectation }
  }),
  // Commands that change state, with payloads no schema takes: refused, nothing changes.
  fc
    .record({
      command: fc.constantFrom(...CHANGING_COMMANDS),
      payload: fc.oneof(fc.integer(), fc.string({ maxLength: 20 }), fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }), fc.boolean()),
    })
    .map(({ command, payload }) => {
      const id = uiIds++
      return { text: JSON.stringify({ id, command, payload }), binary: false, expect: { id, outcome: 'invalid_request' } satisfies UiExpectation }
    }),
  // Read-only commands with any payload: answered, with a value or a request error.
  fc
    .record({ command: fc.constantFrom(...READ_ONLY_COMMANDS), payload: fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined }) })
    .map(({ command, payload }) => {
      const id = uiIds++
      return { text: JSON.stringify({ id, command, payload }), binary: false, expect: { id, outcome: 'answered' } satisfies UiExpectation }
    }),
)

async function checkUi(socket: FuzzSocket, c: FrameCase<UiExpectation>): Promise<void> {
  sendCase(socket, c)
  const answer = (await socket.next('the answer', (frame) => !(isPlainObject(frame) && 'event' in frame))) as {
    id?: unknown
    ok?: unknown
    error?: { code?: unknown; message?: unknown }
  }
  const label = `${c.text.slice(0, 200)} answered ${JSON.stringify(answer).slice(0, 300)}`
  expect(answer.id, label).toBe(c.expect.id)
  if (c.expect.outcome === 'invalid_request') {
    expect(answer.ok, label).toBe(false)
    expect(answer.error?.code, label).toBe('invalid_request')
  } else if (answer.ok !== true) {
    // A request the schema refuses, or an entry that does not exist; never an internal failure.
    expect(['invalid_request', 'not_found'], label).toContain(answer.error?.code)
  }
  if (answer.ok === false) expect(typeof answer.error?.message === 'string' && answer.error.message.length > 0, label).toBe(true)
  expect(socket.leaks).toEqual([])
}

// ---- valid requests with extreme parameters ---------------------------------------------

const address = fc.stringMatching(/^0x[0-9a-fA-F]{40}$/)
const topic = fc.stringMatching(/^0x[0-9a-f]{64}$/)
const oneOrMany = <T>(item: fc.Arbitrary<T>) => fc.oneof(item, fc.array(item, { minLength: 1, maxLength: 3 }))
const maybe = <T>(value: fc.Arbitrary<T>) => fc.option(value, { nil: undefined })
/** `[type, params]` that every transport must accept (src/shared/subscription-params.ts). */
const validSubscription: fc.Arbitrary<[string, Record<string, unknown>]> = fc.oneof(
  fc.constantFrom<[string, Record<string, unknown>]>(
    ['newHeads', {}],
    ['newPendingTransactions', {}],
    ['alchemy_newFullPendingTransactions', {}],
    ['syncing', {}],
  ),
  fc
    .record(
      {
        address: maybe(oneOrMany(address)),
        topics: maybe(fc.array(fc.oneof(fc.constant(null), topic, fc.array(topic, { minLength: 1, maxLength: 3 })), { maxLength: 4 })),
      },
      { requiredKeys: [] },
    )
    .map((p) => ['logs', p] as [string, Record<string, unknown>]),
  fc.record({ address: oneOrMany(address) }).map((p) => ['alchemy_filteredNewFullPendingTransactions', p] as [string, Record<string, unknown>]),
  fc
    .record({ fromAddress: oneOrMany(address), toAddress: oneOrMany(address), hashesOnly: fc.boolean() }, { requiredKeys: [] })
    .map((p) => ['alchemy_pendingTransactions', p] as [string, Record<string, unknown>]),
  fc
    .record(
      {
        addresses: fc.array(fc.record({ from: address, to: address }, { requiredKeys: [] }), { maxLength: 3 }),
        includeRemoved: fc.boolean(),
        hashesOnly: fc.boolean(),
      },
      { requiredKeys: [] },
    )
    .map((p) => ['alchemy_minedTransactions', p] as [string, Record<string, unknown>]),
)
const extremeBlock = fc.oneof(
  fc.integer({ min: -20, max: 20 }),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 31, -(2 ** 31), 2 ** 53 - 2),
)
const streamValid = fc.record({
  subscription: validSubscription,
  start_block: maybe(extremeBlock),
  fetch: maybe(fc.boolean()),
  listen: fc.boolean(),
  irreversible_only: maybe(fc.boolean()),
  with_progress: maybe(fc.oneof(fc.integer({ min: 1, max: 10 }), fc.constant(Number.MAX_SAFE_INTEGER))),
})
/** What a valid request may end in besides `complete`/`listening`: PROTOCOL.md's codes for requests the upstream cannot serve; never internal_error. */
const REQUEST_OUTCOME_CODES = ['start_block_out_of_range', 'unsupported_upstream', 'upstream_error', 'upstream_unavailable']
let validIds = 0

// ---- the runs ---------------------------------------------------------------------------

async function fuzzEndpoint<E>(
  path: string,
  arbitrary: fc.Arbitrary<FrameCase<E>>,
  check: (socket: FuzzSocket, c: FrameCase<E>) => Promise<void>,
  batches: number,
  perBatch: number,
  seedOffset: number,
): Promise<void> {
  for (let batch = 0; batch < batches; batch++) {
    const socket = await FuzzSocket.open(path)
    try {
      await fc.assert(
        fc.asyncProperty(arbitrary, (c) => check(socket, c)),
        { seed: seed + seedOffset + batch, numRuns: perBatch },
      )
    } finally {
      socket.close()
    }
    await target.expectHealthy(`${path} batch ${batch}`)
  }
}

describe('fuzz: WebSocket frames to tidewatch serve', () => {
  it('/v1/stream answers every bad frame with invalid_json or invalid_request, and every ping', async () => {
    await fuzzEndpoint('/v1/stream', streamCase, checkStream, 4, 500, 100)
  })

  it('/v1/rpc answers every bad frame with -32700, -32600 or -32602 (and forwards unknown methods)', async () => {
    await fuzzEndpoint('/v1/rpc', rpcCase, checkRpc, 4, 500, 200)
  })

  it('/ui answers every bad frame with invalid_request and never fails internally', async () => {
    await fuzzEndpoint('/ui', uiCase, checkUi, 3, 500, 300)
  })

  it('/v1/stream and /v1/rpc serve valid requests with extreme parameters and end them cleanly', async () => {
    for (let i = 0; i < 12; i++) target.upstream.mine([{ address: `0x${'12'.repeat(20)}`, topics: [`0x${'ab'.repeat(32)}`], data: '0x' }])
    const stream = await FuzzSocket.open('/v1/stream')
    const rpc = await FuzzSocket.open('/v1/rpc')
    try {
      await fc.assert(
        fc.asyncProperty(streamValid, async ({ subscription: [type, data], listen, ...envelope }) => {
          const reqId = `valid-${++validIds}`
          const request = { type, req_id: reqId, data, listen, ...envelope }
          stream.send(JSON.stringify(request))
          const mine = (frame: unknown): frame is { type: string; data: { code?: string; success?: boolean } } => isPlainObject(frame) && frame.req_id === reqId
          if (!listen && !envelope.irreversible_only) {
            // History up to the head, then complete (or an error that ends it).
            await stream.find(`the end of ${reqId}`, (f) => mine(f) && (f.type === 'complete' || f.type === 'error'))
          } else {
            // Live, or waiting for blocks to become final: end it, whatever it is doing.
            stream.send(JSON.stringify({ type: 'unlisten', data: { req_id: reqId } }))
            await stream.find(`unlistened ${reqId}`, (f) => mine(f) && f.type === 'unlistened')
          }
          const errors = stream.all((f) => mine(f) && f.type === 'error') as { data: { code?: string } }[]
          for (const error of errors) expect(REQUEST_OUTCOME_CODES, `${JSON.stringify(request)} got ${JSON.stringify(error)}`).toContain(error.data.code)
          expect(errors.length, `${JSON.stringify(request)}: one error at most`).toBeLessThanOrEqual(1)
          const id = `sub-${validIds}`
          rpc.send(JSON.stringify({ jsonrpc: '2.0', id, method: 'eth_subscribe', params: [type, data] }))
          const subscribed = (await rpc.find(`eth_subscribe ${id}`, (f) => isPlainObject(f) && f.id === id)) as { result?: unknown }
          expect(subscribed.result, `eth_subscribe ${JSON.stringify([type, data])} answered ${JSON.stringify(subscribed)}`).toMatch(/^0x[0-9a-f]+$/)
          rpc.send(JSON.stringify({ jsonrpc: '2.0', id: `un-${id}`, method: 'eth_unsubscribe', params: [subscribed.result] }))
          expect(await rpc.find(`eth_unsubscribe ${id}`, (f) => isPlainObject(f) && f.id === `un-${id}`)).toMatchObject({ result: true })
          expect([...stream.leaks, ...rpc.leaks]).toEqual([])
        }),
        // A request that never ends costs 15 s per try: report the first failure instead of shrinking it.
        { seed: seed + 500, numRuns: 300, endOnFailure: true },
      )
    } finally {
      stream.close()
      rpc.close()
    }
    await target.expectHealthy('valid requests with extreme parameters')
  })

  it('answers frames near the size limit and closes on frames over it, on every endpoint', async () => {
    const sizes = fc.record({
      path: fc.constantFrom('/v1/stream', '/v1/rpc', '/ui'),
      kind: fc.constantFrom('valid', 'junk', 'over'),
      slack: fc.integer({ min: 1, max: 4096 }),
    })
    await fc.assert(
      fc.asyncProperty(sizes, async ({ path, kind, slack }) => {
        const socket = await FuzzSocket.open(path)
        try {
          if (kind === 'over') {
            socket.send('x'.repeat(MAX_FRAME_BYTES + slack))
            await waitFor('the close', () => socket.closeCode, 15_000)
            // 1009 (message too big); 1006 when the server's close frame is lost to the reset of a socket still sending.
            expect([1009, 1006]).toContain(socket.closeCode)
            return
          }
          const request =
            path === '/v1/stream'
              ? { type: 'ping', req_id: 'big', data: {} }
              : path === '/v1/rpc'
                ? { jsonrpc: '2.0', id: 'big', method: 'eth_unsubscribe', params: ['0xdead'] }
                : { id: 77, command: 'app.info', payload: {} }
          const head = JSON.stringify(request).slice(0, -1)
          const size = MAX_FRAME_BYTES - slack
          const frame = kind === 'valid' ? `${head},"pad":"${'x'.repeat(size - head.length - 10)}"}` : `"${'x'.repeat(size - 1)}`
          socket.send(frame)
          const answer = (await socket.next('the answer', (f) => !(isPlainObject(f) && 'event' in f))) as Record<string, unknown>
          if (path === '/v1/stream')
            expect(answer).toMatchObject(kind === 'valid' ? { type: 'pong', req_id: 'big' } : { type: 'error', req_id: null, data: { code: 'invalid_json' } })
          else if (path === '/v1/rpc') expect(answer).toMatchObject(kind === 'valid' ? { id: 'big', result: false } : { id: null, error: { code: -32700 } })
          else expect(answer).toMatchObject(kind === 'valid' ? { id: 77, ok: true } : { id: 0, ok: false, error: { code: 'invalid_request' } })
          expect(JSON.stringify(answer).length).toBeLessThan(4096)
          expect(socket.leaks).toEqual([])
        } finally {
          socket.close()
        }
      }),
      { seed: seed + 400, numRuns: 6 },
    )
    await target.expectHealthy('frames near and over the size limit')
  })
})
