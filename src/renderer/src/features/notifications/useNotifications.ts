/**
 * Notifications pushed by the engine (`notification`, already rate-limited there): each one
 * becomes an in-app toast, and a desktop notification through the Notification API when
 * the person allowed it (Electron's renderer grants it; a browser asks once).
 */
import { createContext, createElement, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react'
import type { EventPayload } from '@shared/contract'
import { useClient } from '../../hooks/useClient'

export type DesktopPermission = 'granted' | 'denied' | 'default' | 'unsupported'

export interface Toast extends EventPayload<'notification'> {
  key: number
  at: number
}

/** How long a toast stays, and how many are shown at once (the oldest go first). */
export const TOAST_MS = 8000
const MAX_TOASTS = 4

interface NotificationsValue {
  toasts: Toast[]
  dismiss(key: number): void
  permission: DesktopPermission
  /** Asks for desktop notifications if not decided yet; resolves to the outcome. */
  requestPermission(): Promise<DesktopPermission>
}

const NotificationsContext = createContext<NotificationsValue>({
  toasts: [],
  dismiss: () => undefined,
  permission: 'unsupported',
  requestPermission: () => Promise.resolve('unsupported'),
})

function currentPermission(): DesktopPermission {
  if (typeof window === 'undefined' || !('Notification' in window)) return 'unsupported'
  return window.Notification.permission
}

function showDesktop(payload: EventPayload<'notification'>): void {
  if (currentPermission() !== 'granted') return
  try {
    const notification = new window.Notification(payload.title, {
      body: payload.body,
      // One live notification per subscription: a newer one replaces the older.
      ...(payload.subscriptionId !== null ? { tag: `tidewatch-subscription-${payload.subscriptionId}` } : {}),
    })
    notification.onclick = () => {
      window.focus()
      notification.close()
    }
  } catch (error) {
    // Some contexts (a page without a service worker on Android) refuse the constructor.
    console.warn('[tidewatch] could not show a desktop notification', error)
  }
}

export function NotificationsProvider({ children }: { children: ReactNode }) {
  const client = useClient()
  const [toasts, setToasts] = useState<Toast[]>([])
  const [permission, setPermission] = useState<DesktopPermission>(currentPermission)
  const nextKey = useRef(1)
  const timers = useRef(new Map<number, ReturnType<typeof setTimeout>>())

  const dismiss = useCallback((key: number) => {
    clearTimeout(timers.current.get(key))
    timers.current.delete(key)
    setToasts((previous) => previous.filter((toast) => toast.key !== key))
  }, [])

  useEffect(() => {
    const off = client.on('notification', (payload) => {
      showDesktop(payload)
      const key = nextKey.current++
      setToasts((previous) => [...previous, { ...payload, key, at: Date.now() }].slice(-MAX_TOASTS))
      timers.current.set(
        key,
        setTimeout(() => dismiss(key), TOAST_MS),
      )
    })
    const pending = timers.current
    return () => {
      off()
      for (const timer of pending.values()) clearTimeout(timer)
      pending.clear()
    }
  }, [client, dismiss])

  // The person may change the site permission in the browser's settings meanwhile.
  useEffect(() => {
    let disposed = false
    let status: PermissionStatus | null = null
    const refresh = (): void => setPermission(currentPermission())
    navigator.permissions
      ?.query({ name: 'notifications' })
      .then((result) => {
        if (disposed) return
        status = result
        result.addEventListener('change', refresh)
      })
      .catch(() => undefined)
    return () => {
      disposed = true
      status?.removeEventListener('change', refresh)
    }
  }, [])

  const requestPermission = useCallback(async (): Promise<DesktopPermission> => {
    const now = currentPermission()
    if (now !== 'default') {
      setPermission(now)
      return now
    }
    let outcome: DesktopPermission
    try {
      outcome = await window.Notification.requestPermission()
    } catch {
      outcome = currentPermission()
    }
    setPermission(outcome)
    return outcome
  }, [])

  const value = useMemo(() => ({ toasts, dismiss, permission, requestPermission }), [toasts, dismiss, permission, requestPermission])
  return createElement(NotificationsContext.Provider, { value }, children)
}

export function useNotifications(): NotificationsValue {
  return useContext(NotificationsContext)
}
