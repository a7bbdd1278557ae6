/**
 * A capturer sharing a PostgreSQL store (test/helpers/shared-capture.ts) in a process of its
 * own, for tests that kill it: `node test/helpers/postgres-capturer.mjs <options as JSON>`.
 * Prints one line per event (`elected`, `following`, `capturing from …`, `lost …`, `log …`);
 * SIGTERM stops it cleanly. The TypeScript is loaded through Vite's module runner, as in
 * connection-leader.mjs.
 */
import path from 'node:path'
import { runnerImport } from 'vite'

const root = path.resolve(import.meta.dirname, '../..')
const { startSharedCapture } = (await runnerImport(path.join(root, 'test/helpers/shared-capture.ts'), { configFile: false, logLevel: 'silent' })).module

const say = (line) => process.stdout.write(`${line}\n`)
const capture = await startSharedCapture({ ...JSON.parse(process.argv[2]), say })
process.on('SIGTERM', () => {
  void capture.stop().then(() => process.exit(0))
})
