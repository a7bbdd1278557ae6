/**
 * BENCHMARKS.md: a short intro, then one section per benchmark between markers. Each
 * benchmark rewrites only its own section, so others can add theirs.
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const BENCHMARKS_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'BENCHMARKS.md')

const INTRO = `# Benchmarks

Speed goals are checked here, by benchmarks run on demand, never by timed unit tests. Each
benchmark is a script under \`bench/\` that measures, prints its results and rewrites its
own section of this file (between its \`<!-- bench:… -->\` markers; edit outside them).
Numbers are only comparable within one run: every section names the machine, the Node
version and the date it was measured on.

Run all benchmarks with \`npm run bench\`, or one with the command in its section.
`

export function writeSection(id: string, markdown: string, file = BENCHMARKS_FILE): void {
  const begin = `<!-- bench:${id}:begin -->`
  const end = `<!-- bench:${id}:end -->`
  const block = `${begin}\n${markdown.trim()}\n${end}`
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : INTRO
  const from = current.indexOf(begin)
  const to = current.indexOf(end)
  const next = from >= 0 && to > from ? current.slice(0, from) + block + current.slice(to + end.length) : `${current.trimEnd()}\n\n${block}\n`
  fs.writeFileSync(file, next)
}
