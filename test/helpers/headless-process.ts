/** `tidewatch serve` as a child process in its own process group, as users and CI run it. */
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { waitFor } from './scripted-server'

const root = path.resolve(__dirname, '../..')

export interface ServeProcess {
  baseUrl: string
  token: string
  /** The Node process of `tidewatch serve` (the group leader). */
  pid: number
  output: () => string
  /** Whether the process is still running. */
  alive(): boolean
  /** Signals the process group and waits for the exit code. */
  kill(signal: NodeJS.Signals): Promise<number | null>
}

export async function startServe(args: string[], dataDir: string): Promise<ServeProcess> {
  const child: ChildProcess = spawn(process.execPath, ['bin/tidewatch.mjs', 'serve', '--data-dir', dataDir, '--port', '0', ...args], {
    cwd: root,
    detached: true,
  })
  let output = ''
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()))
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  await waitFor(
    'the listening line',
    () => {
      if (child.exitCode !== null) throw new Error(`serve exited early:\n${output}`)
      return /Tidewatch listening on (http:\/\/\S+)/.test(output)
    },
    60_000,
  )
  return {
    baseUrl: output.match(/Tidewatch listening on (http:\/\/\S+)/)![1]!,
    token: fs.readFileSync(path.join(dataDir, 'api-token'), 'utf8').trim(),
    pid: child.pid!,
    output: () => output,
    alive: () => child.exitCode === null && child.signalCode === null,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, signal)
      return exited
    },
  }
}
