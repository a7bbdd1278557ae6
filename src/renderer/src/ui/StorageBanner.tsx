import type { StorageStatus } from '@shared/contract'

const TITLES: Record<NonNullable<StorageStatus['fault']>, string> = {
  locked: 'The store is locked by another program',
  full: 'The disk is full',
  read_only: 'The store cannot be written',
  corrupt: 'The store is damaged',
  io: 'Writing to the store fails',
}

/** One notice for trouble with the store (issue #10): what is wrong, what is held, what to do. */
export function StorageBanner({ status }: { status: StorageStatus | null }) {
  if (!status) return null
  if (status.state !== 'ok' && status.fault) {
    const held = status.pendingWrites.toLocaleString('en-US')
    return (
      <div className="banner banner-error" role="alert" data-testid="storage-banner" data-fault={status.fault} data-state={status.state}>
        <strong>{TITLES[status.fault]}.</strong> <span>{status.message}</span>
        <span data-testid="storage-held">
          {' '}
          {status.capturePaused
            ? `Capture is paused with ${held} writes waiting in memory; it resumes by itself once they are stored.`
            : `${held} writes wait in memory and are retried with backoff.`}
        </span>
      </div>
    )
  }
  if (status.notice) {
    return (
      <div className="banner banner-warning" role="status" data-testid="storage-banner" data-state="notice">
        <strong>Store replaced.</strong> <span>{status.notice}</span>
      </div>
    )
  }
  return null
}
