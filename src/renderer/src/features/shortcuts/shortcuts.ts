/**
 * Keyboard shortcuts of the window. Space (pause) and "/" (search) belong to the live log,
 * which handles them itself; they are listed here for the help overlay only.
 */

export interface ShortcutHelp {
  keys: string[]
  description: string
  /** Where it applies, when not everywhere. */
  scope?: string
}

export const SHORTCUT_HELP: readonly ShortcutHelp[] = [
  { keys: ['n'], description: 'New filter: open Subscriptions and focus the type' },
  { keys: ['?'], description: 'Show or hide this list' },
  { keys: ['Space'], description: 'Pause or resume the live log', scope: 'Live log' },
  { keys: ['/'], description: 'Search the live log', scope: 'Live log' },
  { keys: ['←', '→'], description: 'Move between tabs', scope: 'Tab strip' },
  { keys: ['Esc'], description: 'Close a dialog' },
]

/** Keys typed into a field are the field's, never a shortcut. */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof Element)) return false
  if (target instanceof HTMLInputElement) {
    // Checkboxes, radios and buttons take no text.
    return !['checkbox', 'radio', 'button', 'submit', 'reset', 'range', 'color', 'file'].includes(target.type)
  }
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true
  if (target instanceof HTMLElement && target.isContentEditable) return true
  return target.closest('[contenteditable=""], [contenteditable="true"]') !== null
}

/**
 * The shortcut a key press means, if any: plain keys only (Shift allowed, since "?" needs it),
 * never inside a field or when another handler already used the key.
 */
export function shortcutKey(event: KeyboardEvent): string | null {
  if (event.defaultPrevented || event.isComposing || event.repeat) return null
  if (event.ctrlKey || event.metaKey || event.altKey) return null
  if (isTypingTarget(event.target)) return null
  return event.key
}
