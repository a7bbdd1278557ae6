/**
 * The benchmarks' upstream: flood-server.mjs forked as its own process (so its CPU and
 * memory are not counted as Tidewatch's) and driven over IPC. The protocol is described at
 * the top of flood-server.mjs.
 */
import { fork, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const benchDir = path.dirname(fileURLToPath(import.meta.url))

export type ServerMessage =
  | { type: 'ready'; port: number }
  | { type: 'planned' }
  | { type: 'flood-start'; at: number; count: number }
  | { type: 'flood-done'; at: number; sent: number; cpuMs: number }
  | { type: 'chain-done'; at: number; blocks: number; cpuMs: number }
  | { type: 'paced'; head: number }

export class FloodServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(prepare: number): Promise<FloodServer> {
    const child = fork(path.join(benchDir, 'flood-server.mjs'), [], {
      execArgv: [],
      env: { ...process.env, BENCH_FLOOD_PREPARE: String(prepare) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`flood server exited (code ${code})`))))
    exited.catch(() => undefined)
    const ready = await Promise.race([FloodServer.next(child, 'ready'), exited])
    return new FloodServer(child, `ws://127.0.0.1:${ready.port}`)
  }

  private static next<T extends ServerMessage['type']>(child: ChildProcess, type: T): Promise<Extract<ServerMessage, { type: T }>> {
    return new Promise((resolve) => {
      const onMessage = (message: ServerMessage): void => {
        if (message.type !== type) return
        child.off('message', onMessage)
        resolve(message as Extract<ServerMessage, { type: T }>)
      }
      child.on('message', onMessage)
    })
  }

  /** Registers at once, so a message that arrives before the caller awaits is not missed. */
  next<T extends ServerMessage['type']>(type: T): Promise<Extract<ServerMessage, { type: T }>> {
    return FloodServer.next(this.child, type)
  }

  /** The number of notifications the next `logs` subscription gets. */
  async planNotifications(count: number): Promise<void> {
    const planned = this.next('planned')
    this.child.send({ type: 'plan', count })
    await planned
  }

  /** Resets the chain to block FIRST_BLOCK - 1; after go(), `blocks` more are produced. */
  async planChain(blocks: number): Promise<void> {
    const planned = this.next('planned')
    this.child.send({ type: 'chain', blocks })
    await planned
  }

  /** Produces block FIRST_BLOCK; returns the time it did. */
  go(): number {
    this.child.send({ type: 'go' })
    return Date.now()
  }

  /**
   * Produces blocks on a clock, `blocksPerSecond` from now on, however fast the client
   * fetches them (0 stops the chain); returns the index of the head block at that moment.
   */
  async pace(blocksPerSecond: number): Promise<number> {
    const paced = this.next('paced')
    this.child.send({ type: 'pace', blocksPerSecond })
    return (await paced).head
  }

  stop(): void {
    if (this.child.connected) this.child.disconnect()
    this.child.kill()
  }
}
