/**
 * Dark and light themes: the person's choice (system, dark or light) is kept in localStorage;
 * the resolved theme is set as `data-theme` on <html>, which styles.css uses to override the
 * colour variables. A tiny store so the header toggle and the settings panel stay in step.
 */

export const THEME_PREFERENCES = ['system', 'dark', 'light'] as const
export type ThemePreference = (typeof THEME_PREFERENCES)[number]
export type Theme = 'dark' | 'light'

export const THEME_STORAGE_KEY = 'tidewatch.theme'

const LIGHT_QUERY = '(prefers-color-scheme: light)'

function isPreference(value: unknown): value is ThemePreference {
  return typeof value === 'string' && (THEME_PREFERENCES as readonly string[]).includes(value)
}

function readStoredPreference(): ThemePreference {
  try {
    const stored = window.localStorage.getItem(THEME_STORAGE_KEY)
    return isPreference(stored) ? stored : 'system'
  } catch {
    // Storage can be disabled: follow the system.
    return 'system'
  }
}

function systemTheme(): Theme {
  try {
    return window.matchMedia(LIGHT_QUERY).matches ? 'light' : 'dark'
  } catch {
    return 'dark'
  }
}

export function resolveTheme(preference: ThemePreference, system: Theme): Theme {
  return preference === 'system' ? system : preference
}

export interface ThemeState {
  preference: ThemePreference
  theme: Theme
}

let state: ThemeState | null = null
const listeners = new Set<() => void>()
let mediaWatched = false

function apply(next: ThemeState): void {
  const root = document.documentElement
  root.dataset.theme = next.theme
  root.dataset.themePreference = next.preference
  root.style.colorScheme = next.theme
}

function update(preference: ThemePreference): void {
  const next: ThemeState = { preference, theme: resolveTheme(preference, systemTheme()) }
  if (state && state.preference === next.preference && state.theme === next.theme) return
  state = next
  apply(next)
  for (const listener of [...listeners]) listener()
}

function watchSystem(): void {
  if (mediaWatched) return
  mediaWatched = true
  try {
    window.matchMedia(LIGHT_QUERY).addEventListener('change', () => {
      if (state?.preference === 'system') update('system')
    })
  } catch {
    // No matchMedia: the system theme is taken as dark and never changes.
  }
}

/** Applies the stored theme; call once before the first render so the page never flashes. */
export function initTheme(): ThemeState {
  if (!state) update(readStoredPreference())
  watchSystem()
  return state!
}

export function getThemeState(): ThemeState {
  return state ?? initTheme()
}

export function subscribeTheme(listener: () => void): () => void {
  listeners.add(listener)
  return () => {
    listeners.delete(listener)
  }
}

export function setThemePreference(preference: ThemePreference): void {
  try {
    if (preference === 'system') window.localStorage.removeItem(THEME_STORAGE_KEY)
    else window.localStorage.setItem(THEME_STORAGE_KEY, preference)
  } catch {
    // Not persisted, still applied for this page.
  }
  update(preference)
}

/** The header toggle: switch to the other theme, pinned (no longer following the system). */
export function toggleTheme(): void {
  setThemePreference(getThemeState().theme === 'dark' ? 'light' : 'dark')
}
