/** Says once what the demo chain is and how to watch a real network; dismissed for good. */
export function DemoNote({ onDismiss }: { onDismiss: () => void }) {
  return (
    <div className="banner banner-info demo-note" role="note" data-testid="demo-note">
      <span>
        <strong>This is a local demo chain:</strong> an anvil node on this computer, with a small ERC-20 token that moves every block. Tidewatch subscribed to
        its Transfers and put the demo sender on the watchlist. To watch a real network, add a <code>ws://</code> or <code>wss://</code> endpoint under
        Connections on the left.
      </span>
      <button type="button" className="button button-small" onClick={onDismiss} data-testid="demo-note-dismiss">
        Got it
      </button>
    </div>
  )
}
