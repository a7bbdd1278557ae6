// Summarizes a .cpuprofile (from `BENCH_PROFILE=1 npm run bench:ingest`): self time by
// function and by source file, and the total time under a few functions of interest.
//   node bench/profile-summary.mjs bench/.profiles/<file>.cpuprofile [top=25]
import fs from 'node:fs'
import path from 'node:path'

const file = process.argv[2]
const top = Number(process.argv[3] ?? 25)
if (!file) {
  console.error('usage: node bench/profile-summary.mjs <file.cpuprofile> [top]')
  process.exit(2)
}
const profile = JSON.parse(fs.readFileSync(file, 'utf8'))
const nodes = new Map(profile.nodes.map((n) => [n.id, n]))
const parent = new Map()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)

// Sample counts per node, weighted by the time until the next sample.
const selfMs = new Map()
for (let i = 0; i < profile.samples.length; i++) {
  const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000
  selfMs.set(profile.samples[i], (selfMs.get(profile.samples[i]) ?? 0) + dt)
}
const total = [...selfMs.values()].reduce((a, b) => a + b, 0)
const short = (url) => (url ? url.replace(/^.*\/(node_modules\/|src\/|bench\/)/, '$1').replace(/^file:\/\//, '') : '')
const label = (n) => {
  const f = n.callFrame
  const where = f.url ? `${short(f.url)}:${f.lineNumber + 1}` : '(native)'
  return `${f.functionName || '(anonymous)'} ${where}`
}

const byFunction = new Map()
const byFile = new Map()
for (const [id, ms] of selfMs) {
  const n = nodes.get(id)
  const key = label(n)
  byFunction.set(key, (byFunction.get(key) ?? 0) + ms)
  const fileKey = n.callFrame.url
    ? short(n.callFrame.url).replace(/\?.*$/, '')
    : n.callFrame.functionName.startsWith('(')
      ? n.callFrame.functionName
      : '(native / builtins)'
  byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + ms)
}

// Inclusive time under functions whose name matches (each sample counted once).
const inclusive = (match) => {
  let ms = 0
  for (const [id, t] of selfMs) {
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      if (match(nodes.get(cur).callFrame)) {
        ms += t
        break
      }
    }
  }
  return ms
}

const show = (title, map, limit) => {
  console.log(`\n${title}`)
  for (const [key, ms] of [...map].sort((a, b) => b[1] - a[1]).slice(0, limit))
    console.log(`  ${((ms / total) * 100).toFixed(1).padStart(5)} %  ${ms.toFixed(0).padStart(6)} ms  ${key}`)
}

console.log(`${path.basename(file)}: ${(total / 1000).toFixed(2)} s sampled`)
show('Self time by function', byFunction, top)
show('Self time by file', byFile, 15)
const interesting = [
  ['Statement.run (every INSERT/UPDATE, native)', (f) => f.functionName === 'run' && f.url === ''],
  ['EventStore.flush (events batches)', (f) => f.functionName === 'flush' && f.url.includes('event-store')],
  ['ChainStore.appendBlock (chain_blocks, chain_logs)', (f) => f.functionName === 'appendBlock'],
  ['ChainStore.canonicalRange (read back)', (f) => f.functionName === 'canonicalRange'],
  ['ChainStore.cursor', (f) => f.functionName === 'cursor' && f.url.includes('chain-store')],
  ['db.prepare (statements prepared per call)', (f) => f.functionName === 'prepare' && f.url.includes('better-sqlite3')],
  ['JsonRpcClient.handleFrame (decode, JSON.parse, route, and what runs synchronously after)', (f) => f.functionName === 'handleFrame'],
  ['normalizeLog', (f) => f.functionName === 'normalizeLog'],
  ['ws Receiver', (f) => f.url.includes('ws/lib/receiver')],
  ['(garbage collector)', (f) => f.functionName === '(garbage collector)'],
  ['(idle: waiting for the network)', (f) => f.functionName === '(idle)'],
]
console.log('\nInclusive time')
for (const [name, match] of interesting) {
  const ms = inclusive(match)
  console.log(`  ${((ms / total) * 100).toFixed(1).padStart(5)} %  ${ms.toFixed(0).padStart(6)} ms  ${name}`)
}
