import { resolve } from 'node:path'
import react from '@vitejs/plugin-react'
import { defineConfig } from 'electron-vite'

export default defineConfig({
  main: {
    build: {
      // Bundled rather than loaded from node_modules at run time: Node's ESM loader resolves,
      // reads and compiles each file of a package on its own, and viem (its chain list
      // included) is about 1,100 files. Loading them was most of `tidewatch serve`'s start
      // (about 1 s of CPU on the bench machine, more under load); bundled, the whole main
      // bundle loads in about 0.25 s (TIDEWATCH_TRACE_START=1 shows it). Native and optional-native
      // packages (better-sqlite3, ws) stay external.
      externalizeDeps: { exclude: ['viem', 'zod', '@noble/hashes'] },
      rollupOptions: {
        input: {
          // The Electron entry and the headless entry share one engine bundle.
          index: resolve(__dirname, 'src/main/electron/index.ts'),
          serve: resolve(__dirname, 'src/main/headless/serve.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      // A sandboxed preload is a single CommonJS file that requires only 'electron'.
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve(__dirname, 'src/preload/index.ts') },
        external: ['electron'],
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    resolve: { alias: { '@shared': resolve(__dirname, 'src/shared') } },
    plugins: [react()],
    build: {
      rollupOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } },
    },
  },
})
