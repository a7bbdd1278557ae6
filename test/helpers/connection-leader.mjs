/**
 * A capturer's leadership of one connection in a process of its own, for tests that kill or
 * freeze the leader: `node test/helpers/connection-leader.mjs <postgres url> <connection id>
 * [options as JSON]`. Prints one line per event: `elected <backend pid>`, `following`,
 * `lost <reason>`. The TypeScript modules are loaded through Vite's module runner, as the
 * repository has no other way to run TypeScript in a plain Node process.
 */
import path from 'node:path'
import { runnerImport } from 'vite'

const root = path.resolve(import.meta.dirname, '../..')
const load = async (file) => (await runnerImport(path.join(root, file), { configFile: false, logLevel: 'silent' })).module

const [url, connectionId, options = '{}'] = process.argv.slice(2)
const { connectPostgres } = await load('src/main/store/postgres/database.ts')
const { ConnectionLeadership } = await load('src/main/store/postgres/leadership.ts')

const say = (line) => process.stdout.write(`${line}\n`)
const pool = await connectPostgres(url, { log: (message) => say(`log ${message}`) })
const leadership = new ConnectionLeadership(pool, Number(connectionId), { ...JSON.parse(options), log: (message) => say(`log ${message}`) })
leadership.on('elected', () => say(`elected ${leadership.backendPid}`))
leadership.on('following', () => say('following'))
leadership.on('lost', (reason) => say(`lost ${reason}`))
leadership.start()
process.on('SIGTERM', () => {
  void leadership
    .release()
    .then(() => pool.end())
    .then(() => process.exit(0))
})
