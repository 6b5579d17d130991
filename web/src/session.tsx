import { createContext, useContext } from 'react';
import type { Api, Role } from './lib/api';

export interface Session {
  token: string;
  role: Role;
  who: string;
  api: Api;
  logout: (message?: string) => void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in app');
  return session;
}

export const TOKEN_KEY = 'mevops.token';
