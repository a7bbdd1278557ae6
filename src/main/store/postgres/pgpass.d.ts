/** pgpass (the node-postgres authors' reader of ~/.pgpass and PGPASSFILE) ships no types. */
declare module 'pgpass' {
  interface PgpassConnection {
    host?: string | null
    port?: number | string | null
    database?: string | null
    user?: string | null
  }
  /** Calls back with the password of the first matching line, or undefined (no file, no match, or a file others can read). */
  function pgpass(connection: PgpassConnection, callback: (password: string | undefined) => void): void
  export = pgpass
}
