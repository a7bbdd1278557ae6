/**
 * The live log's keys: Space pauses or resumes, "/" goes to the text filter, Escape closes
 * the detail. Space and "/" are left alone while typing or on a control that uses them.
 */
import { useEffect, useRef, type RefObject } from 'react'

export interface LiveLogShortcuts {
  togglePause(): void
  focusSearch(): void
  /** Returns true when it closed something. */
  escape(): boolean
}

/** Where Space or "/" mean something of their own. */
function isOwnKeyTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false
  if (target.isContentEditable) return true
  return target.closest('input, textarea, select, button, a[href], summary, [role="button"], [role="tab"], [role="checkbox"]') !== null
}

/** `root`: the view's element; keys count only while it is on screen (a hidden tab ignores them). */
export function useLiveLogShortcuts(root: RefObject<HTMLElement | null>, shortcuts: LiveLogShortcuts): void {
  const latest = useRef(shortcuts)
  latest.current = shortcuts

  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent): void => {
      if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return
      const element = root.current
      if (!element || element.getClientRects().length === 0) return
      if (event.key === 'Escape') {
        if (latest.current.escape()) event.preventDefault()
        return
      }
      if (isOwnKeyTarget(event.target)) return
      if (event.key === ' ' || event.code === 'Space') {
        event.preventDefault()
        if (!event.repeat) latest.current.togglePause()
      } else if (event.key === '/') {
        event.preventDefault()
        latest.current.focusSearch()
      }
    }
    window.addEventListener('keydown', onKeyDown)
    return () => window.removeEventListener('keydown', onKeyDown)
  }, [root])
}
