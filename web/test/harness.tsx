import { act, render } from '@testing-library/react';
import type { ReactNode } from 'react';
import type { Api, Role } from '../src/lib/api';
import { LiveProvider } from '../src/live';
import { SessionContext, type Session } from '../src/session';
import { FakeSocket } from './fakes';

export const STREAM_BASE = 'ws://engine.test/api/v1/stream';

/** Render `ui` signed in as `role` over `api`, with fake streams. */
export function renderSignedIn(ui: ReactNode, { api, role = 'viewer', logout = () => undefined }: { api: Api; role?: Role; logout?: Session['logout'] }) {
  const session: Session = { token: 'tok-123', role, who: `test ${role}`, api, logout };
  return render(
    <SessionContext.Provider value={session}>
      <LiveProvider createSocket={FakeSocket.create} streamBase={STREAM_BASE}>
        {ui}
      </LiveProvider>
    </SessionContext.Provider>,
  );
}

/** Open every stream socket (as the server accepting them). */
export function openAll(): void {
  act(() => {
    for (const s of FakeSocket.instances) if (s.readyState === 0) s.open();
  });
}

export function push(topic: string, seq: number, data: unknown): void {
  act(() => FakeSocket.last(topic).receive({ topic, seq, at: 1_800_000_000 + seq, data }));
}
