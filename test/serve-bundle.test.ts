/**
 * What the built main bundle (the one `tidewatch serve` and the desktop app run) loads from
 * node_modules before it can do anything: every package named by its static imports, which
 * Node's ESM loader resolves, reads and compiles file by file. viem (about 1,100 files with
 * its chain list) and zod are bundled instead (electron.vite.config.ts), and the PostgreSQL
 * client is imported only when a shared store is asked for: loading them was most of serve's
 * start on a big store. Checked on the build output, the way bin/tidewatch.mjs runs it.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import ts from 'typescript'
import { beforeAll, describe, expect, it } from 'vitest'

const root = path.resolve(__dirname, '..')
const outMain = path.join(root, 'out/main')

/** The specifiers a bundle file imports: static (top-level import and export … from) and dynamic (import("…")). */
function importsOf(file: string): { static: string[]; dynamic: string[] } {
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false, ts.ScriptKind.JS)
  const found = { static: [] as string[], dynamic: [] as string[] }
  for (const statement of source.statements)
    if ((ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) && statement.moduleSpecifier && ts.isStringLiteral(statement.moduleSpecifier))
      found.static.push(statement.moduleSpecifier.text)
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0]))
      found.dynamic.push(node.arguments[0].text)
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

/** The packages (bare specifiers) an entry's static import graph names, and the bundle files it spans. */
function staticGraph(entry: string): { packages: Set<string>; files: Set<string> } {
  const packages = new Set<string>()
  const files = new Set<string>()
  const visit = (file: string): void => {
    if (files.has(file)) return
    files.add(file)
    for (const specifier of importsOf(file).static) {
      if (specifier.startsWith('.')) visit(path.resolve(path.dirname(file), specifier))
      else if (!specifier.startsWith('node:')) packages.add(specifier)
    }
  }
  visit(path.join(outMain, entry))
  return { packages, files }
}

const packageName = (specifier: string): string =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/')

beforeAll(() => {
  // As the bin does: built when out/ is missing or older than the sources.
  const build = spawnSync(process.execPath, ['-e', "import('./scripts/ensure-build.mjs').then((m) => m.ensureBuild())"], { cwd: root, stdio: 'inherit' })
  expect(build.status).toBe(0)
}, 300_000)

describe('the main bundle at start', () => {
  for (const entry of ['serve.js', 'index.js']) {
    it(`${entry}: loads viem, zod and @noble/hashes from the bundle and the PostgreSQL client only on demand`, () => {
      const { packages } = staticGraph(entry)
      const loaded = [...packages].map(packageName)
      // The native store is always needed: the graph was read.
      expect(loaded).toContain('better-sqlite3')
      for (const bundled of ['viem', 'zod', '@noble/hashes']) expect(loaded).not.toContain(bundled)
      for (const postgres of ['pg', 'pg-copy-streams', 'pg-connection-string', 'pgpass']) expect(loaded).not.toContain(postgres)
    })
  }

  it('the PostgreSQL store is still in the build, behind a dynamic import', () => {
    const { files } = staticGraph('serve.js')
    const dynamic = [...files].flatMap((file) => importsOf(file).dynamic.map((specifier) => path.resolve(path.dirname(file), specifier)))
    const postgres = dynamic.filter((file) => fs.existsSync(file) && importsOf(file).static.includes('pg'))
    expect(postgres).toHaveLength(1)
  })
})
