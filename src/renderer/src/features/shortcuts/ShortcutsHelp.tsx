import { SHORTCUT_HELP } from './shortcuts'
import { Modal } from '../../ui/Modal'

/** The "?" overlay listing the keyboard shortcuts; "?" again or Esc closes it. */
export function ShortcutsHelp({ onClose }: { onClose(): void }) {
  return (
    <Modal
      testId="shortcuts-help"
      closeTestId="shortcuts-help-close"
      className="shortcuts-modal"
      title="Keyboard shortcuts"
      onClose={onClose}
      initialFocus=".modal-close"
      onKeyDown={(event) => {
        if (event.key === '?') {
          event.preventDefault()
          onClose()
        }
      }}
    >
      <table className="shortcuts-table">
        <tbody>
          {SHORTCUT_HELP.map((shortcut) => (
            <tr key={shortcut.keys.join('+')}>
              <td className="shortcuts-keys">
                {shortcut.keys.map((key) => (
                  <kbd key={key}>{key}</kbd>
                ))}
              </td>
              <td>{shortcut.description}</td>
              <td className="shortcuts-scope">{shortcut.scope ?? 'Anywhere'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="field-hint">Keys typed into a text field are never shortcuts.</p>
    </Modal>
  )
}
