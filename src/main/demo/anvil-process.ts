// Runs a local anvil node as a child process for the embedded demo chain.
//
// The demo chain deliberately lives in its own process: anvil is a native
// binary shipped by the @foundry-rs/anvil-<platform>-<arch> npm packages, and
// keeping it out of our process means a crash or hang there never takes the
// monitor down with it.

import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'

export interface AnvilOptions {
  /** TCP port; 0 or undefined picks a free one. */
  port?: number | undefined
  /** Seconds between mined blocks; undefined = anvil's automine (a block per tx). */
  blockTime?: number | undefined
  /** Interface to bind; defaults to 127.0.0.1 (never expose a dev chain by accident). */
  host?: string | undefined
  /** Extra CLI flags passed verbatim to anvil. */
  extraArgs?: string[] | undefined
  /** How long to wait for the node to answer eth_chainId (default 20 000 ms). */
  readyTimeoutMs?: number | undefined
  /**
   * Run anvil under a small guard process that stops it when this process dies, even by
   * SIGKILL (which skips every exit handler): the guard notices its stdin pipe closing.
   * The demo chain uses it; tests that start anvil themselves do not need it.
   */
  dieWithParent?: boolean | undefined
}

const GUARD_GRACE_MS = 2_000

/**
 * The guard's program (run with `node -e`, argv[1] = JSON [bin, ...args]). It passes
 * anvil's output through, forwards SIGTERM/SIGINT with a SIGKILL after a grace period,
 * and kills anvil at once when its stdin (a pipe from the parent) reaches end of file.
 */
const GUARD_SCRIPT = `
const { spawn } = require('node:child_process');
const [bin, ...args] = JSON.parse(process.argv[1]);
const child = spawn(bin, args, { stdio: ['ignore', 'inherit', 'inherit'], windowsHide: true });
const alive = () => child.exitCode === null && child.signalCode === null;
const stop = () => {
  if (!alive()) return;
  child.kill('SIGTERM');
  setTimeout(() => { if (alive()) child.kill('SIGKILL'); }, ${GUARD_GRACE_MS}).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', () => { if (alive()) child.kill('SIGKILL'); });
process.stdin.on('error', () => { if (alive()) child.kill('SIGKILL'); });
process.stdin.resume();
child.on('error', (error) => { process.stderr.write('cannot start anvil: ' + error.message + '\\n'); process.exit(127); });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
`

export interface AnvilProcess {
  port: number
  wsUrl: string
  httpUrl: string
  /** The anvil process, or its guard with `dieWithParent` (stopping either stops anvil). */
  pid: number
  /** SIGTERM, then SIGKILL after 3 s; resolves once the process has exited. Idempotent. */
  stop(): Promise<void>
}

const DEFAULT_HOST = '127.0.0.1'
const READY_TIMEOUT_MS = 20_000
const READY_POLL_MS = 100
const STOP_GRACE_MS = 3_000
/** Keep only the end of anvil's output: enough to explain a failed start. */
const OUTPUT_TAIL_CHARS = 4_000

/** npm package suffixes published by foundry, keyed by Node's platform-arch. */
const ANVIL_PACKAGE_TARGETS: Readonly<Record<string, string>> = {
  'linux-x64': 'linux-amd64',
  'linux-arm64': 'linux-arm64',
  'darwin-x64': 'darwin-amd64',
  'darwin-arm64': 'darwin-arm64',
  'win32-x64': 'win32-amd64',
}

/**
 * Locates the anvil executable. TIDEWATCH_ANVIL_BIN wins (useful for a system
 * foundry install or a packaged app that unpacks the binary elsewhere);
 * otherwise it comes from the platform package that @foundry-rs/anvil pulls in
 * as an optional dependency.
 */
export function resolveAnvilBinary(): string {
  const override = process.env['TIDEWATCH_ANVIL_BIN']
  if (override) {
    if (!existsSync(override)) {
      throw new Error(`TIDEWATCH_ANVIL_BIN points to ${override}, which does not exist`)
    }
    return override
  }
  const target = ANVIL_PACKAGE_TARGETS[`${process.platform}-${process.arch}`]
  if (!target) {
    throw new Error(
      `anvil has no prebuilt npm package for ${process.platform}-${process.arch}; ` + 'install foundry and set TIDEWATCH_ANVIL_BIN to the anvil binary',
    )
  }
  const pkg = `@foundry-rs/anvil-${target}`
  const require = createRequire(import.meta.url)
  let pkgJson: string
  try {
    pkgJson = require.resolve(`${pkg}/package.json`)
  } catch {
    throw new Error(`cannot find ${pkg} (an optional dependency of @foundry-rs/anvil); ` + 'reinstall dependencies or set TIDEWATCH_ANVIL_BIN')
  }
  const bin = join(dirname(pkgJson), 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil')
  if (!existsSync(bin)) {
    throw new Error(`${pkg} is installed but ${bin} is missing; set TIDEWATCH_ANVIL_BIN`)
  }
  return bin
}

/**
 * Asks the OS for a free port by binding :0 and closing again. There is a tiny
 * race (another process could grab it before anvil binds), which we accept:
 * anvil then fails fast and startAnvil reports its stderr.
 */
export function findFreePort(host: string = DEFAULT_HOST): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen({ host, port: 0 }, () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : undefined
      server.close(() => {
        if (port === undefined) reject(new Error('could not determine a free port'))
        else resolvePort(port)
      })
    })
  })
}

/** Host to put in URLs: a wildcard bind address is reachable via loopback. */
function connectHost(bindHost: string): string {
  if (bindHost === '0.0.0.0') return '127.0.0.1'
  if (bindHost === '::') return '[::1]'
  return bindHost.includes(':') && !bindHost.startsWith('[') ? `[${bindHost}]` : bindHost
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (exited(child)) return Promise.resolve()
  return new Promise((resolveExit) => child.once('exit', () => resolveExit()))
}

async function answersChainId(httpUrl: string): Promise<boolean> {
  try {
    const res = await fetch(httpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(1_000),
    })
    if (!res.ok) return false
    const body: unknown = await res.json()
    return typeof body === 'object' && body !== null && 'result' in body
  } catch {
    return false // not listening yet
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Resolves if `port` can be bound on `host` right now. */
function assertPortFree(host: string, port: number): Promise<void> {
  return new Promise((resolveFree, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', (err) => reject(new Error(`cannot start anvil: ${host}:${port} is not available (${err.message})`)))
    server.listen({ host, port }, () => server.close(() => resolveFree()))
  })
}

export async function startAnvil(options: AnvilOptions = {}): Promise<AnvilProcess> {
  const host = options.host ?? DEFAULT_HOST
  let port: number
  if (options.port) {
    // Check up front: otherwise the readiness probe could be answered by
    // whatever already listens there (e.g. another anvil) while ours dies.
    await assertPortFree(host, options.port)
    port = options.port
  } else {
    port = await findFreePort(host)
  }
  const bin = resolveAnvilBinary()

  const args = ['--host', host, '--port', String(port)]
  if (options.blockTime !== undefined) args.push('--block-time', String(options.blockTime))
  // --quiet (alias --silent) stops anvil logging every request/tx to stdout.
  args.push('--quiet', ...(options.extraArgs ?? []))

  const guarded = options.dieWithParent === true
  const child = guarded
    ? // ELECTRON_RUN_AS_NODE: in the desktop app, execPath is Electron's binary.
      spawn(process.execPath, ['-e', GUARD_SCRIPT, JSON.stringify([bin, ...args])], {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
        windowsHide: true,
      })
    : spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true })

  // Always drain both pipes: an unread pipe that fills up would block anvil.
  let outputTail = ''
  const collect = (chunk: Buffer): void => {
    outputTail = (outputTail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS)
  }
  child.stdout?.on('data', collect)
  child.stderr?.on('data', collect)

  let spawnError: Error | undefined
  child.once('error', (err) => {
    spawnError = err
  })

  // A synchronous kill on 'exit' is the last line of defence against an
  // orphaned anvil holding the port after the app quits. ('exit' handlers
  // cannot await, and kill() is synchronous, so this is safe.) Note that an
  // unhandled fatal signal to our process skips 'exit' handlers; the app's
  // signal handling is expected to call stop()/process.exit() instead.
  // A guard is not SIGKILLed: it must live to stop anvil (its stdin closes as we exit).
  const killOnExit = (): void => {
    if (!exited(child)) child.kill(guarded ? 'SIGTERM' : 'SIGKILL')
  }
  process.on('exit', killOnExit)

  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      try {
        if (exited(child) || child.pid === undefined) return
        const exit = waitForExit(child)
        child.kill('SIGTERM')
        const graceful = await Promise.race([exit.then(() => true), sleep(STOP_GRACE_MS).then(() => false)])
        if (!graceful && !exited(child)) {
          child.kill('SIGKILL')
          await exit
        }
      } finally {
        process.off('exit', killOnExit)
      }
    })()
    return stopping
  }

  const url = connectHost(host)
  const httpUrl = `http://${url}:${port}`
  const wsUrl = `ws://${url}:${port}`
  const timeoutMs = options.readyTimeoutMs ?? READY_TIMEOUT_MS
  const deadline = Date.now() + timeoutMs

  const describe = (reason: string): Error => {
    const tail = outputTail.trim()
    return new Error(`anvil (${bin} ${args.join(' ')}) ${reason}` + (tail ? `\n--- anvil output (tail) ---\n${tail}` : ''))
  }

  for (;;) {
    if (spawnError) {
      await stop()
      throw describe(`failed to spawn: ${spawnError.message}`)
    }
    if (exited(child)) {
      await stop()
      throw describe(`exited during startup (code ${String(child.exitCode)}, signal ${String(child.signalCode)})`)
    }
    // Re-check liveness after a successful probe for the same reason as
    // assertPortFree: the answer must come from our child, not a squatter.
    if ((await answersChainId(httpUrl)) && !exited(child) && !spawnError) break
    if (Date.now() > deadline) {
      await stop()
      throw describe(`did not answer eth_chainId on ${httpUrl} within ${timeoutMs} ms`)
    }
    await sleep(READY_POLL_MS)
  }

  // child.pid is defined once the process spawned, which answering RPC proves.
  const pid = child.pid
  if (pid === undefined) {
    await stop()
    throw describe('has no pid')
  }
  return { port, wsUrl, httpUrl, pid, stop }
}
