#!/usr/bin/env node
// Compiles the embedded demo chain's ERC-20 (src/main/demo/DemoToken.sol) with
// solc-js into build/contracts/DemoToken.json = { abi, bytecode, sourceHash, ... }.
//
// This script is the single implementation of "turn DemoToken.sol into an
// artifact": npm build/test/serve/start call it, and the runtime
// (loadDemoTokenArtifact in src/main/demo/traffic-generator.ts) spawns it when
// the artifact is missing.
//
// Usage: node scripts/compile-contracts.mjs [--force] [--out <artifact.json>]
//   --force  recompile even when the artifact is up to date
//   --out    write the artifact somewhere else (default build/contracts/DemoToken.json)
//
// It is meant to be cheap when nothing changed: the up-to-date check only
// hashes the source and reads the old artifact; solc (a ~10 MB emscripten
// module that takes a second or more to load) is imported only when needed.

import { createHash } from 'node:crypto'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

// Resolve paths from this file, not process.cwd(), so the script works no
// matter where it is launched from.
const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const sourcePath = resolve(projectRoot, 'src/main/demo/DemoToken.sol')
const contractName = 'DemoToken'
// anvil 1.7 defaults to the latest hardfork, so cancun opcodes (PUSH0, MCOPY,
// transient storage) are all available.
const evmVersion = 'cancun'

function parseArgs(argv) {
  const args = { force: false, out: resolve(projectRoot, 'build/contracts/DemoToken.json') }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--force') args.force = true
    else if (arg === '--out') {
      const value = argv[++i]
      if (!value) fail('--out needs a path')
      args.out = resolve(value)
    } else if (arg === '--help' || arg === '-h') {
      console.log('Usage: node scripts/compile-contracts.mjs [--force] [--out <artifact.json>]')
      process.exit(0)
    } else fail(`unknown argument: ${arg}`)
  }
  return args
}

function fail(message) {
  console.error(`compile-contracts: ${message}`)
  process.exit(1)
}

function solcVersion() {
  // Reading package.json is much cheaper than loading the compiler itself.
  const require = createRequire(import.meta.url)
  return require('solc/package.json').version
}

async function readExistingArtifact(path) {
  try {
    return JSON.parse(await readFile(path, 'utf8'))
  } catch {
    return undefined // missing or corrupt: just recompile
  }
}

async function compile(source) {
  const { default: solc } = await import('solc')
  const input = {
    language: 'Solidity',
    sources: { 'DemoToken.sol': { content: source } },
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion,
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  }
  const output = JSON.parse(solc.compile(JSON.stringify(input)))
  const diagnostics = output.errors ?? []
  const errors = diagnostics.filter((d) => d.severity === 'error')
  for (const d of diagnostics.filter((d) => d.severity !== 'error')) {
    console.warn(d.formattedMessage ?? d.message)
  }
  if (errors.length > 0) {
    const details = errors.map((d) => d.formattedMessage ?? d.message).join('\n')
    fail(`solc ${solc.version()} failed to compile ${relative(process.cwd(), sourcePath)}:\n${details}`)
  }
  const contract = output.contracts?.['DemoToken.sol']?.[contractName]
  const object = contract?.evm?.bytecode?.object
  if (!contract || typeof object !== 'string' || object.length === 0) {
    fail(`solc output has no bytecode for ${contractName}`)
  }
  return { abi: contract.abi, bytecode: `0x${object}` }
}

async function main() {
  const args = parseArgs(process.argv.slice(2))
  let source
  try {
    source = await readFile(sourcePath, 'utf8')
  } catch (err) {
    fail(`cannot read ${sourcePath}: ${err instanceof Error ? err.message : String(err)}`)
  }
  const sourceHash = createHash('sha256').update(source).digest('hex')
  const compilerVersion = solcVersion()

  const existing = await readExistingArtifact(args.out)
  if (
    !args.force &&
    existing?.sourceHash === sourceHash &&
    existing?.compilerVersion === compilerVersion &&
    typeof existing?.bytecode === 'string' &&
    Array.isArray(existing?.abi)
  ) {
    console.log(`compile-contracts: ${relative(process.cwd(), args.out)} is up to date`)
    return
  }

  const started = performance.now()
  const { abi, bytecode } = await compile(source)
  const artifact = { contractName, abi, bytecode, sourceHash, compilerVersion, evmVersion }

  // Write to a temp file and rename so a concurrent reader (e.g. the app
  // starting while `npm run contracts` runs) never sees a half-written file.
  await mkdir(dirname(args.out), { recursive: true })
  const tmp = `${args.out}.${process.pid}.tmp`
  await writeFile(tmp, `${JSON.stringify(artifact, null, 2)}\n`)
  await rename(tmp, args.out)
  const ms = Math.round(performance.now() - started)
  console.log(`compile-contracts: compiled ${contractName} -> ${relative(process.cwd(), args.out)} (${ms} ms)`)
}

main().catch((err) => fail(err instanceof Error ? (err.stack ?? err.message) : String(err)))
