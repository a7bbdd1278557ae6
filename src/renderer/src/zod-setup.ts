import { z } from 'zod'

/**
 * The page runs under a CSP without 'unsafe-eval'. zod 4 otherwise probes `new Function` to
 * JIT-compile object parsers, which the CSP reports as a violation. Imported first by main.tsx.
 */
z.config({ jitless: true })
