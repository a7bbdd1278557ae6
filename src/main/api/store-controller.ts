/**
 * What the API needs of the store choice (issue 13). The desktop app keeps a choice in its
 * data directory and opens it at the next start; headless mode has none (`serve --store`
 * decides), and the API then reports the store in use as read-only.
 */
export interface StoreChoiceController {
  /** The PostgreSQL URL saved for the next start, password masked (null: the embedded store), and why it failed to open at this start. */
  current(): { configured: { url: string } | null; restartRequired: boolean; lastError: string | null }
  /** Saves the store for the next start; null: the embedded SQLite store. */
  save(url: string | null): void
}
