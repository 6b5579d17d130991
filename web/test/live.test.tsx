import { act, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { useLive } from '../src/live';
import { FakeSocket, fakeApi, status } from './fakes';
import { openAll, push, renderSignedIn } from './harness';

function Probe() {
  const { connection, resync, status: s } = useLive();
  return (
    <p>
      <span data-testid="c">{connection}</span> <span data-testid="r">{resync.trades}</span> <span data-testid="b">{s?.last_block}</span>
    </p>
  );
}

describe('LiveProvider', () => {
  it('a gap bumps the topic resync counter (pages refetch)', () => {
    const { api } = fakeApi({ 'GET /status': status() });
    renderSignedIn(<Probe />, { api });
    openAll();
    expect(screen.getByTestId('c').textContent).toBe('live');
    act(() => FakeSocket.last('trades').receive({ gap: true }));
    expect(screen.getByTestId('r').textContent).toBe('1');
  });

  it('alerts start from what the engine still buffers (since=0); others from now', () => {
    const { api } = fakeApi({ 'GET /status': status() });
    renderSignedIn(<Probe />, { api });
    expect(FakeSocket.last('alerts').url).toMatch(/\/alerts\?since=0$/);
    expect(FakeSocket.last('trades').url).toMatch(/\/trades$/);
  });

  it('after a reconnect, a different engine process restarts every stream without since', async () => {
    let replica = 'host:100';
    const { api } = fakeApi({ 'GET /status': () => status({ replica: { id: replica, role: 'active', since: 0 } }) });
    renderSignedIn(<Probe />, { api });
    openAll();
    await waitFor(() => expect(screen.getByTestId('b').textContent).toBe('100'));
    push('trades', 40, { id: 'x', status: 'sent' });
    // the engine restarts: streams drop, come back (resuming since=40), and /status names a new process
    replica = 'host:200';
    act(() => FakeSocket.last('trades').serverClose(1006));
    await waitFor(() => expect(FakeSocket.topic('trades').length).toBe(2), { timeout: 3000 });
    expect(FakeSocket.last('trades').url).toMatch(/since=40$/);
    act(() => FakeSocket.last('trades').open());
    await waitFor(() => expect(FakeSocket.topic('trades').length).toBe(3), { timeout: 3000 });
    expect(FakeSocket.last('trades').url).toMatch(/\/trades$/);
    expect(FakeSocket.topic('metrics').length).toBe(2);
    expect(screen.getByTestId('r').textContent).toBe('1');
  });
});
