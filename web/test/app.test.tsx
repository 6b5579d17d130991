import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { render } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { App } from '../src/App';
import { TOKEN_KEY } from '../src/session';
import { FakeSocket, status } from './fakes';
import { STREAM_BASE } from './harness';

function json(body: unknown, init: ResponseInit = {}) {
  return new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' }, ...init });
}

/** A fetch for an engine knowing one token ("good", as `role`). */
function engineFetch(role = 'operator') {
  return vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input), 'http://engine.test');
    const auth = new Headers(init?.headers).get('Authorization');
    if (auth !== 'Bearer good') return json({ detail: 'unknown or revoked token' }, { status: 401 });
    switch (url.pathname) {
      case '/api/v1/whoami':
        return json({ who: 'token:2:ops', name: 'ops', role, token_id: 2 });
      case '/api/v1/status':
        return json(status());
      case '/api/v1/nodes':
        return json({ checked_at: null, items: [] });
      case '/api/v1/history/pnl':
        return json({ series: [], gas_spent_wei: '0', realized_usd: 0 });
      case '/api/v1/metrics':
        return json({ realized_pnl_usd: {}, gas_spent_wei: {} });
      default:
        return json({ detail: 'Not Found' }, { status: 404 });
    }
  });
}

function renderApp(fetchImpl: typeof fetch) {
  return render(<App fetchImpl={fetchImpl} createSocket={FakeSocket.create} streamBase={STREAM_BASE} />);
}

async function signIn(token: string) {
  fireEvent.change(screen.getByLabelText('API token'), { target: { value: token } });
  fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
}

describe('login', () => {
  it('a wrong token shows "invalid token" and stays on the login', async () => {
    const fetchImpl = engineFetch();
    renderApp(fetchImpl);
    await signIn('bad');
    expect((await screen.findByRole('alert')).textContent).toContain('invalid token');
    expect(screen.queryByRole('navigation', { name: 'Main' })).toBeNull();
    expect(sessionStorage.getItem(TOKEN_KEY)).toBeNull();
    expect(FakeSocket.instances).toHaveLength(0);
  });

  it('a good token: the role, the main navigation, streams authenticated by first message, then live', async () => {
    renderApp(engineFetch('operator'));
    await signIn('good');
    const nav = await screen.findByRole('navigation', { name: 'Main' });
    const links = within(nav).getAllByRole('link');
    expect(links.map((a) => [a.textContent, a.getAttribute('href')])).toEqual([
      ['Overview', '#/overview'], ['Opportunities', '#/opportunities'], ['Trades', '#/trades'],
      ['Strategies', '#/strategies'], ['Risk', '#/risk'], ['Nodes', '#/nodes'],
    ]);
    expect(screen.getByTestId('role').textContent).toBe('operator');
    expect(sessionStorage.getItem(TOKEN_KEY)).toBe('good');
    expect(screen.getByTestId('connection').textContent).toBe('reconnecting');

    const topics = FakeSocket.instances.map((s) => new URL(s.url).pathname.split('/').pop()).sort();
    expect(topics).toEqual(['alerts', 'metrics', 'nodes', 'opportunities', 'trades']);
    expect(FakeSocket.instances.every((s) => !s.url.includes('good'))).toBe(true);
    act(() => FakeSocket.instances.forEach((s) => s.open()));
    expect(FakeSocket.instances.every((s) => s.sent[0] === JSON.stringify({ token: 'good' }))).toBe(true);
    expect(screen.getByTestId('connection').textContent).toBe('live');
    await waitFor(() => expect(screen.getByTestId('engine-state').textContent).toBe('trading'));
    expect(screen.getByTestId('landed-count').textContent).toBe('4');

    // a dropped stream: reconnecting until it is back
    act(() => FakeSocket.last('trades').serverClose(1006));
    expect(screen.getByTestId('connection').textContent).toBe('reconnecting');
  });

  it('a stream refusing the token (1008) signs out', async () => {
    renderApp(engineFetch());
    await signIn('good');
    await screen.findByRole('navigation', { name: 'Main' });
    act(() => FakeSocket.instances.forEach((s) => s.open()));
    act(() => FakeSocket.last('metrics').serverClose(1008, 'missing, unknown or revoked token'));
    expect((await screen.findByRole('alert')).textContent).toContain('invalid token');
    expect(screen.getByLabelText('API token')).toBeTruthy();
    expect(sessionStorage.getItem(TOKEN_KEY)).toBeNull();
    expect(FakeSocket.instances.every((s) => s.readyState === 3)).toBe(true);
  });

  it('Log out forgets the token; a saved token signs in again on reload', async () => {
    sessionStorage.setItem(TOKEN_KEY, 'good');
    renderApp(engineFetch('viewer'));
    expect((await screen.findByTestId('role')).textContent).toBe('viewer');
    fireEvent.click(screen.getByRole('button', { name: 'Log out' }));
    expect(screen.getByLabelText('API token')).toBeTruthy();
    expect(sessionStorage.getItem(TOKEN_KEY)).toBeNull();
  });

  it('the engine state reads "emergency stop" when stopped', async () => {
    renderApp(engineFetch());
    await signIn('good');
    await screen.findByRole('navigation', { name: 'Main' });
    act(() => FakeSocket.instances.forEach((s) => s.open()));
    act(() => FakeSocket.last('metrics').receive({ topic: 'metrics', seq: 3, at: 1, data: status({ emergency_stop: 'x', trading: false }) }));
    expect(screen.getByTestId('engine-state').textContent).toBe('emergency stop');
    act(() => FakeSocket.last('metrics').receive({ topic: 'metrics', seq: 4, at: 2, data: status({ trading: false }) }));
    expect(screen.getByTestId('engine-state').textContent).toBe('stopped');
  });
});
