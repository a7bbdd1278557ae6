/**
 * Directions that are checked, not hoped for (../shared/STYLE.md lesson 12). Data flows
 * upstream -> chain -> capture (subscriptions) -> store; api, stream, rpc-endpoint and server
 * sit above the engine; app, headless and electron compose everything. A lower layer never
 * imports a higher one, and no folder cycle exists. `npm run depcheck`, run by `npm test`.
 */
const main = (folder) => `^src/main/${folder}/`
const above = (...folders) => `^src/main/(${folders.join('|')})/`
const COMPOSITION = ['app', 'headless', 'electron']
const SERVING = ['api', 'stream', 'rpc-endpoint', 'server', 'demo', ...COMPOSITION]
// The engine's services (engine/*-service.ts, composed by engine/engine.ts), with exports and token metadata.
const ENGINE = ['engine', 'tokens', 'export', ...SERVING]

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'Modules that import each other in a cycle.', from: {}, to: { circular: true } },
    {
      name: 'upstream-is-the-bottom',
      severity: 'error',
      comment: 'The JSON-RPC client and the upstream pool know nothing of what is built on them.',
      from: { path: '^src/main/(rpc|upstream)/' },
      to: { path: above('chain', 'subscriptions', 'store', ...ENGINE) },
    },
    {
      name: 'store-is-below-the-chain',
      severity: 'error',
      comment: 'SQL lives in the store; it is told what to write and never reaches up.',
      from: { path: main('store') },
      to: { path: above('rpc', 'upstream', 'chain', 'subscriptions', ...ENGINE) },
    },
    {
      name: 'chain-is-below-capture',
      severity: 'error',
      comment: 'The chain tracker and its watches serve capture and the endpoints, never the reverse.',
      from: { path: main('chain') },
      to: { path: above('subscriptions', ...ENGINE) },
    },
    {
      name: 'capture-is-below-the-engine',
      severity: 'error',
      from: { path: main('subscriptions') },
      to: { path: above(...ENGINE) },
    },
    {
      name: 'engine-is-below-its-servers',
      severity: 'error',
      from: { path: above('engine', 'tokens', 'export') },
      to: { path: above(...SERVING) },
    },
    {
      name: 'servers-are-below-composition',
      severity: 'error',
      from: { path: above('api', 'stream', 'rpc-endpoint', 'server', 'demo') },
      to: { path: above(...COMPOSITION) },
    },
    {
      name: 'sql-only-in-the-store',
      severity: 'error',
      comment: 'Only src/main/store talks to SQLite or PostgreSQL (STYLE.md lesson 10); the rest calls named store operations.',
      from: { path: '^src/main/', pathNot: '^src/main/store/' },
      to: { path: 'node_modules/(better-sqlite3|pg|pg-connection-string|pgpass|pg-copy-streams)/' },
    },
    {
      name: 'database-handle-only-in-the-store',
      severity: 'error',
      comment:
        'The store opens the database and hands out named stores (store/tidewatch-store.ts); nothing else holds the handle. Headless only names StoreOpenError to explain a store that cannot open.',
      from: { path: '^src/main/', pathNot: '^src/main/(store|headless)/' },
      to: { path: '^src/main/store/database\\.ts$' },
    },
    {
      name: 'services-composed-in-one-place',
      severity: 'error',
      comment: "The engine's services know each other only through what engine.ts wires them with; none imports the composition.",
      from: { path: '^src/main/(engine|tokens|export)/', pathNot: '^src/main/engine/engine\\.ts$' },
      to: { path: '^src/main/engine/engine\\.ts$' },
    },
    {
      name: 'api-calls-the-services',
      severity: 'error',
      comment: "The contract's handlers call the engine's services, never a store.",
      from: { path: main('api') },
      to: { path: main('store') },
    },
    {
      name: 'engine-free-of-electron',
      severity: 'error',
      comment: 'Only the thin glue in src/main/electron imports Electron.',
      from: { path: '^src/main/', pathNot: '^src/main/electron/' },
      to: { path: '^electron$|node_modules/electron/' },
    },
    {
      name: 'renderer-free-of-node',
      severity: 'error',
      comment: 'The renderer runs sandboxed: it imports src/shared and browser packages only.',
      from: { path: '^src/renderer/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'renderer-free-of-main',
      severity: 'error',
      from: { path: '^src/renderer/' },
      to: { path: '^src/(main|preload)/' },
    },
    {
      name: 'main-free-of-renderer',
      severity: 'error',
      from: { path: '^src/(main|preload|shared)/' },
      to: { path: '^src/renderer/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.tsx?$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.node.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
}
