import { useEffect, useLayoutEffect, useRef } from 'react'
import { shortcutKey } from './shortcuts'

/**
 * Window-wide single-key shortcuts: `handlers` maps a KeyboardEvent.key ("n", "?") to an
 * action. Nothing fires while `enabled` is false (a dialog is open) or the key is typed into a field.
 */
export function useShortcuts(handlers: Record<string, () => void>, enabled = true): void {
  const latest = useRef(handlers)
  useLayoutEffect(() => {
    latest.current = handlers
  })

  useEffect(() => {
    if (!enabled) return
    const onKeyDown = (event: KeyboardEvent): void => {
      const key = shortcutKey(event)
      if (key === null) return
      const handler = latest.current[key]
      if (!handler) return
      event.preventDefault()
      handler()
    }
    window.addEventListener('keydown', onKeyDown)
    return () => window.removeEventListener('keydown', onKeyDown)
  }, [enabled])
}
