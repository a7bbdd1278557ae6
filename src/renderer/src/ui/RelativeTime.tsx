import { formatLocalDateTime, formatRelative } from './format'
import { useNow } from '../hooks/useNow'

/** "3 s ago", advancing every second; the exact local date and time is in the tooltip. */
export function RelativeTime({ at, testId }: { at: number; testId?: string }) {
  const now = useNow()
  return (
    <time dateTime={new Date(at).toISOString()} title={formatLocalDateTime(at)} data-testid={testId}>
      {formatRelative(at, now)}
    </time>
  )
}
