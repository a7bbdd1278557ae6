import type { AppInfo } from '../../hooks/useAppInfo'
import { useTheme } from '../../ui/useTheme'
import { THEME_PREFERENCES, type ThemePreference } from '../../ui/theme'
import { CopyButton } from '../../ui/CopyButton'
import { LocalApiSettings } from './LocalApiSettings'
import { Modal } from '../../ui/Modal'
import { StorageSettings } from './StorageSettings'
import { StoreChoiceSettings } from './StoreChoiceSettings'

const THEME_LABELS: Record<ThemePreference, string> = { system: 'System', dark: 'Dark', light: 'Light' }

/** Settings: theme, the local stream API, the store, storage and retention, shortcuts and where the data lives. */
export function SettingsPanel({ info, onClose, onShowShortcuts }: { info: AppInfo | null; onClose(): void; onShowShortcuts(): void }) {
  const theme = useTheme()
  return (
    <Modal testId="settings-panel" closeTestId="settings-close" className="settings-modal" title="Settings" onClose={onClose}>
      <section className="settings-section" aria-labelledby="settings-theme-title">
        <h3 id="settings-theme-title">Theme</h3>
        <div className="segmented" role="radiogroup" aria-labelledby="settings-theme-title" data-testid="theme-choice">
          {THEME_PREFERENCES.map((preference) => (
            <label key={preference} className={`segmented-option${theme.preference === preference ? ' is-selected' : ''}`}>
              <input
                type="radio"
                name="theme"
                value={preference}
                data-testid={`theme-option-${preference}`}
                checked={theme.preference === preference}
                onChange={() => theme.setPreference(preference)}
              />
              {THEME_LABELS[preference]}
            </label>
          ))}
        </div>
        <p className="field-hint">{theme.preference === 'system' ? `Following the system (${theme.theme} now).` : `Always ${theme.theme}.`}</p>
      </section>

      <section className="settings-section" aria-labelledby="settings-api-title">
        <h3 id="settings-api-title">Local stream API</h3>
        <LocalApiSettings />
      </section>

      <section className="settings-section" aria-labelledby="settings-store-title">
        <h3 id="settings-store-title">Store</h3>
        <StoreChoiceSettings />
      </section>

      <section className="settings-section" aria-labelledby="settings-storage-title">
        <h3 id="settings-storage-title">Storage</h3>
        <StorageSettings />
      </section>

      <section className="settings-section" aria-labelledby="settings-keys-title">
        <h3 id="settings-keys-title">Keyboard</h3>
        <p className="field-hint">
          Press <kbd>?</kbd> anywhere outside a text field for the shortcuts.{' '}
          <button type="button" className="link-button" data-testid="settings-shortcuts" onClick={onShowShortcuts}>
            Show them
          </button>
        </p>
      </section>

      {info && (
        <section className="settings-section" aria-labelledby="settings-about-title">
          <h3 id="settings-about-title">About</h3>
          <dl className="local-api-details">
            <dt>Version</dt>
            <dd>
              {info.version} · {info.transport === 'electron' ? 'desktop app' : 'headless, in the browser'}
            </dd>
            <dt>Data</dt>
            <dd>
              <code className="mono" title={info.dataDir}>
                {info.dataDir}
              </code>
              <CopyButton text={info.dataDir} label="Copy path" />
            </dd>
          </dl>
        </section>
      )}
    </Modal>
  )
}
