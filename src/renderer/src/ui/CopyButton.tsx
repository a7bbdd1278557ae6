import { useEffect, useRef, useState } from 'react'

/** Clipboard API where the page may use it, else the selection fallback (older or locked-down contexts). */
async function writeClipboard(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text)
      return true
    }
  } catch {
    // Denied: try the fallback below.
  }
  const area = document.createElement('textarea')
  area.value = text
  area.setAttribute('readonly', '')
  area.style.position = 'fixed'
  area.style.opacity = '0'
  document.body.append(area)
  area.select()
  let copied = false
  try {
    copied = document.execCommand('copy')
  } catch {
    copied = false
  }
  area.remove()
  return copied
}

/** "Copy", then "Copied" (or "Copy failed") for a moment. */
export function CopyButton({ text, testId, label = 'Copy' }: { text: string; testId?: string; label?: string }) {
  const [result, setResult] = useState<'copied' | 'failed' | null>(null)
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined)

  useEffect(() => () => clearTimeout(timer.current), [])

  const copy = async (): Promise<void> => {
    const copied = await writeClipboard(text)
    setResult(copied ? 'copied' : 'failed')
    clearTimeout(timer.current)
    timer.current = setTimeout(() => setResult(null), 1500)
  }

  return (
    <button type="button" className="button button-small" data-testid={testId} aria-live="polite" onClick={() => void copy()}>
      {result === 'copied' ? 'Copied' : result === 'failed' ? 'Copy failed' : label}
    </button>
  )
}
