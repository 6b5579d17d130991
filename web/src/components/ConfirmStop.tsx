import { useState, type FormEvent } from 'react';
import { errorText } from '../lib/api';
import { Dialog } from './Dialog';

/** Asks for a reason and confirmation before the emergency stop; `onConfirm` does the request. */
export function ConfirmStop({ onConfirm, onCancel }: { onConfirm: (reason: string) => Promise<void>; onCancel: () => void }) {
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(ev: FormEvent) {
    ev.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onConfirm(reason.trim() || 'operator request (dashboard)');
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  }

  return (
    <Dialog label="Confirm emergency stop" onClose={() => !busy && onCancel()}>
      <form onSubmit={submit}>
        <h2>Emergency stop</h2>
        <p>
          All trading stops now: every strategy is disabled and no new transaction is sent until the stop is resumed <em>and</em> trading
          is started again.
        </p>
        <label htmlFor="stop-reason">Reason</label>
        <input id="stop-reason" value={reason} maxLength={400} onChange={(e) => setReason(e.target.value)} data-autofocus
          placeholder="why (written to the audit log)" />
        {error && <p className="error" role="alert">{error}</p>}
        <div className="actions">
          <button type="button" className="ghost" onClick={onCancel} disabled={busy}>
            Cancel
          </button>
          <button type="submit" className="danger" disabled={busy}>
            Confirm emergency stop
          </button>
        </div>
      </form>
    </Dialog>
  );
}
