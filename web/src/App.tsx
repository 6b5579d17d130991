import { useCallback, useEffect, useMemo, useState } from 'react';
import { ApiError, createApi, errorText, type Api } from './lib/api';
import { isRole } from './lib/roles';
import type { WebSocketFactory } from './lib/stream';
import { LiveProvider } from './live';
import { Layout } from './Layout';
import { Login } from './pages/Login';
import { SessionContext, TOKEN_KEY, type Session } from './session';
import type { Status, WhoAmI } from './types';

interface Identity {
  token: string;
  who: string;
  role: WhoAmI['role'];
}

function storedToken(): string {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return '';
  }
}

/** Check a token with GET /whoami (its role); an engine without it: GET /status, shown as viewer. */
export async function identify(token: string, fetchImpl?: typeof fetch): Promise<Identity> {
  const api = createApi(token, { fetch: fetchImpl });
  try {
    const me = await api.get<WhoAmI>('/whoami');
    if (!isRole(me.role)) throw new Error(`unexpected role ${String(me.role)}`);
    return { token, who: me.name ?? me.who, role: me.role };
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      await api.get<Status>('/status');
      return { token, who: 'token', role: 'viewer' };
    }
    throw err;
  }
}

export function App({ fetchImpl, createSocket, streamBase }: { fetchImpl?: typeof fetch; createSocket?: WebSocketFactory; streamBase?: string } = {}) {
  const [identity, setIdentity] = useState<Identity | null>(null);
  const [checking, setChecking] = useState(() => storedToken() !== '');
  const [notice, setNotice] = useState<string | null>(null);

  const logout = useCallback((message?: string) => {
    try {
      sessionStorage.removeItem(TOKEN_KEY);
    } catch {
      /* storage off */
    }
    setIdentity(null);
    setNotice(message ?? null);
  }, []);

  const signIn = useCallback(async (token: string) => {
    const me = await identify(token, fetchImpl);
    try {
      sessionStorage.setItem(TOKEN_KEY, token);
    } catch {
      /* storage off: this tab only */
    }
    setNotice(null);
    setIdentity(me);
  }, [fetchImpl]);

  useEffect(() => {
    const token = storedToken();
    if (!token) return;
    identify(token, fetchImpl)
      .then(setIdentity)
      .catch((err) => {
        if (err instanceof ApiError && err.status === 401) logout('invalid token: sign in again');
        else setNotice(errorText(err));
      })
      .finally(() => setChecking(false));
  }, [fetchImpl, logout]);

  const api: Api | null = useMemo(
    () => (identity ? createApi(identity.token, { fetch: fetchImpl, onUnauthorized: () => logout('invalid token: the engine no longer accepts it') }) : null),
    [identity, fetchImpl, logout],
  );

  const session: Session | null = useMemo(
    () => (identity && api ? { token: identity.token, role: identity.role, who: identity.who, api, logout } : null),
    [identity, api, logout],
  );

  if (!session) {
    if (checking) return <main className="login"><p className="muted" role="status">Checking the saved token…</p></main>;
    return <Login onSignIn={signIn} notice={notice} />;
  }
  return (
    <SessionContext.Provider value={session}>
      <LiveProvider createSocket={createSocket} streamBase={streamBase}>
        <Layout />
      </LiveProvider>
    </SessionContext.Provider>
  );
}
