import { useSyncExternalStore } from 'react'
import { getThemeState, setThemePreference, subscribeTheme, toggleTheme, type ThemeState } from './theme'

export interface UseTheme extends ThemeState {
  setPreference: typeof setThemePreference
  toggle: typeof toggleTheme
}

/** The current theme preference and resolved theme, re-rendering when either changes. */
export function useTheme(): UseTheme {
  const state = useSyncExternalStore(subscribeTheme, getThemeState)
  return { ...state, setPreference: setThemePreference, toggle: toggleTheme }
}
