/** A command named a connection, subscription or ABI that does not exist (the API answers not_found). */
export class NotFoundError extends Error {}
