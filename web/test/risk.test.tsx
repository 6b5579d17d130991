import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../src/lib/api';
import { Risk } from '../src/pages/Risk';
import { Strategies } from '../src/pages/Strategies';
import { fakeApi, status } from './fakes';
import { openAll, push, renderSignedIn } from './harness';

const RISK = {
  enabled: true, emergency_stop: null, active_strategies: ['arb'], open_trades: 0, breakers: { arb: 'closed' },
  headroom: { daily_loss: { used_usd: 2500, limit_usd: 10000, source: 'risk_limits.global_limits.max_daily_loss', headroom_ratio: 0.75 } },
};
const STRATEGIES = { items: [
  { name: 'arb', type: 'arbitrage', stage: 'active', mode: 'live', chains: ['ethereum'], enabled_in_file: true, loaded: true, enabled: true },
  { name: 'tri', type: 'arbitrage', stage: 'testing', mode: 'paper', chains: ['ethereum'], enabled_in_file: true, loaded: true, enabled: false },
  { name: 'old', type: 'arbitrage', stage: 'archived', mode: 'live', chains: ['ethereum'], enabled_in_file: false, loaded: false, enabled: false },
] };

function riskApi(extra: Record<string, unknown> = {}) {
  let stopped: string | null = null;
  return fakeApi({
    'GET /status': () => status({ emergency_stop: stopped, trading: !stopped }),
    'GET /risk': () => ({ ...RISK, emergency_stop: stopped }),
    'POST /risk/emergency-stop': (_: URLSearchParams, body: { reason: string }) => {
      stopped = `${body.reason} (token:2:ops)`;
      return { emergency_stop: stopped, trading: false };
    },
    'POST /risk/resume': () => {
      stopped = null;
      return { emergency_stop: null, trading: false };
    },
    'GET /strategies': STRATEGIES,
    ...extra,
  });
}

describe('role gating', () => {
  it('a viewer has no emergency stop, resume or trading buttons', async () => {
    const { api } = riskApi();
    renderSignedIn(<Risk />, { api, role: 'viewer' });
    expect(await screen.findByTestId('emergency-state')).toHaveProperty('textContent', 'emergency stop: off');
    await screen.findByRole('meter', { name: 'Daily loss' });
    expect(screen.queryByRole('button', { name: 'Emergency stop' })).toBeNull();
    expect(screen.queryByRole('button', { name: /Resume|Start trading|Stop trading/ })).toBeNull();
  });

  it('an operator has the emergency stop button', async () => {
    const { api } = riskApi();
    renderSignedIn(<Risk />, { api, role: 'operator' });
    expect(await screen.findByRole('button', { name: 'Emergency stop' })).toBeTruthy();
  });

  it('a viewer sees strategies and their stages but no enable/disable buttons', async () => {
    const { api } = riskApi();
    renderSignedIn(<Strategies />, { api, role: 'viewer' });
    const table = await screen.findByRole('table', { name: 'Strategies' });
    await within(table).findByText('arb');
    expect(within(table).getAllByRole('row')).toHaveLength(4);
    expect(within(table).getByText('testing')).toBeTruthy();
    expect(screen.queryByRole('button', { name: /^(Enable|Disable) / })).toBeNull();
  });

  it('an operator toggles a strategy by its named button (only loaded ones have one)', async () => {
    const { api, calls } = riskApi({ 'POST /strategies/arb/disable': { name: 'arb', enabled: false } });
    renderSignedIn(<Strategies />, { api, role: 'operator' });
    const disable = await screen.findByRole('button', { name: 'Disable arb' });
    expect(screen.getByRole('button', { name: 'Enable tri' })).toBeTruthy();
    expect(screen.queryByRole('button', { name: /old$/ })).toBeNull();
    fireEvent.click(disable);
    await waitFor(() => expect(calls.some((c) => c.method === 'POST' && c.path === '/strategies/arb/disable')).toBe(true));
  });
});

describe('emergency stop confirmation', () => {
  it('cancel sends nothing; confirm sends the reason, then the state reads active and Resume appears', async () => {
    const { api, calls } = riskApi();
    renderSignedIn(<Risk />, { api, role: 'operator' });
    await waitFor(() => expect(screen.getByTestId('trading-state').textContent).toBe('on'));

    fireEvent.click(screen.getByRole('button', { name: 'Emergency stop' }));
    let dialog = screen.getByRole('dialog', { name: 'Confirm emergency stop' });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(calls.filter((c) => c.method === 'POST')).toEqual([]);

    fireEvent.click(screen.getByRole('button', { name: 'Emergency stop' }));
    dialog = screen.getByRole('dialog', { name: 'Confirm emergency stop' });
    const reason = within(dialog).getByLabelText('Reason');
    expect(document.activeElement).toBe(reason);
    fireEvent.change(reason, { target: { value: 'oracle looks wrong' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Confirm emergency stop' }));

    await waitFor(() => expect(screen.getByTestId('emergency-state').textContent).toBe('emergency stop: active'));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(calls.filter((c) => c.method === 'POST')).toMatchObject([{ path: '/risk/emergency-stop', body: { reason: 'oracle looks wrong' } }]);
    expect(screen.getByText(/oracle looks wrong/)).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'Resume' }));
    await waitFor(() => expect(screen.getByTestId('emergency-state').textContent).toBe('emergency stop: off'));
    expect(screen.getByRole('button', { name: 'Start trading' })).toBeTruthy();
  });

  it('a refused stop keeps the dialog open with the error', async () => {
    const { api } = riskApi({ 'POST /risk/emergency-stop': () => { throw new ApiError(403, 'not allowed: needs the operator role'); } });
    renderSignedIn(<Risk />, { api, role: 'operator' });
    fireEvent.click(await screen.findByRole('button', { name: 'Emergency stop' }));
    const dialog = screen.getByRole('dialog', { name: 'Confirm emergency stop' });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Confirm emergency stop' }));
    expect((await within(dialog).findByRole('alert')).textContent).toContain('needs the operator role');
    expect(screen.getByTestId('emergency-state').textContent).toBe('emergency stop: off');
  });

  it('Escape closes the dialog', async () => {
    const { api } = riskApi();
    renderSignedIn(<Risk />, { api, role: 'admin' });
    fireEvent.click(await screen.findByRole('button', { name: 'Emergency stop' }));
    fireEvent.keyDown(document, { key: 'Escape' });
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  it('follows a stop made elsewhere through the metrics stream', async () => {
    const { api } = riskApi();
    renderSignedIn(<Risk />, { api, role: 'viewer' });
    openAll();
    await screen.findByRole('meter', { name: 'Daily loss' });
    push('metrics', 1, status({ emergency_stop: 'risk: daily loss (auto)', trading: false }));
    expect(screen.getByTestId('emergency-state').textContent).toBe('emergency stop: active');
    act(() => undefined);
  });
});
