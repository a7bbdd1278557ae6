/** The message of anything thrown, for logs and for messages to a person or a client. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
