import { useState, type FormEvent } from 'react';
import { ApiError, errorText } from '../lib/api';

export function Login({ onSignIn, notice }: { onSignIn: (token: string) => Promise<void>; notice: string | null }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(ev: FormEvent) {
    ev.preventDefault();
    const value = token.trim();
    if (!value) {
      setError('Enter an API token.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await onSignIn(value);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'invalid token: the engine does not know this token (or it was revoked)' : errorText(err));
      setBusy(false);
    }
  }

  return (
    <main className="login">
      <form className="card login-card" onSubmit={submit} aria-label="Sign in">
        <h1>
          <span className="logo" aria-hidden="true">◆</span> mevops
        </h1>
        <p className="muted">Sign in with an API token (<code>mevops engine token create</code>, or the one the demo prints).</p>
        <label htmlFor="token">API token</label>
        <input id="token" name="token" type="password" autoComplete="off" spellCheck={false} value={token}
          onChange={(ev) => setToken(ev.target.value)} autoFocus />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        {(error || notice) && (
          <p className="error" role="alert">
            {error ?? notice}
          </p>
        )}
      </form>
    </main>
  );
}
