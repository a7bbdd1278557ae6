import { useSyncExternalStore } from 'react'

/** One shared one-second ticker, so every relative time on screen advances together. */
let now = Date.now()
const subscribers = new Set<() => void>()
let timer: ReturnType<typeof setInterval> | undefined

function subscribe(listener: () => void): () => void {
  subscribers.add(listener)
  if (timer === undefined) {
    now = Date.now()
    timer = setInterval(() => {
      now = Date.now()
      for (const subscriber of [...subscribers]) subscriber()
    }, 1000)
  }
  return () => {
    subscribers.delete(listener)
    if (subscribers.size === 0 && timer !== undefined) {
      clearInterval(timer)
      timer = undefined
    }
  }
}

const getSnapshot = (): number => now

/** The current time in ms, re-rendering the caller every second. */
export function useNow(): number {
  return useSyncExternalStore(subscribe, getSnapshot)
}
