import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { Opportunities } from '../src/pages/Opportunities';
import { Trades } from '../src/pages/Trades';
import { Nodes } from '../src/pages/Nodes';
import { Overview } from '../src/pages/Overview';
import { FakeSocket, WETH, fakeApi, status } from './fakes';
import { openAll, push, renderSignedIn } from './harness';

const HASH = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;

function trade(n: number, extra: Record<string, unknown> = {}) {
  return {
    id: `t${n}`, opportunity_id: `t${n}`, chain: 'ethereum', strategy: 'arb', sender: '0xabc', nonce: n, tx_hash: HASH(n),
    status: 'mined', token: WETH, amount_in: '2000000000000000000', block: 100 + n, gas_used: 150000,
    effective_gas_price: '1000000000', realized_profit: '1500000000000000000', gas_cost_wei: '150000000000000',
    reason: '', created_at: '2026-11-22T06:00:00+00:00', updated_at: '2026-11-22T06:00:01+00:00', ...extra,
  };
}

const PNL = { series: [{ token: WETH, symbol: 'WETH', decimals: 18, points: [] }], gas_spent_wei: '0', realized_usd: 0 };

describe('Trades', () => {
  function tradesApi(pages: () => unknown) {
    return fakeApi({ 'GET /status': status(), 'GET /nodes': { checked_at: null, items: [] }, 'GET /history/pnl': PNL, 'GET /history/trades': pages });
  }

  it('lists trades with tx hashes and the total; a row opens the details with the full hash; Close closes', async () => {
    const { api } = tradesApi(() => ({ items: [trade(2), trade(1, { realized_profit: null, status: 'sent' })], total: 57, page: 1, page_size: 25, pages: 3 }));
    renderSignedIn(<Trades />, { api });
    const table = await screen.findByRole('table', { name: 'Trades' });
    await waitFor(() => expect(within(table).getAllByTestId('trade-row')).toHaveLength(2));
    const rows = within(table).getAllByTestId('trade-row');
    expect(rows.map((r) => r.getAttribute('data-tx'))).toEqual([HASH(2), HASH(1)]);
    expect(screen.getByTestId('trades-total').textContent).toBe('57');
    expect(within(rows[0]).getByText('1.5')).toBeTruthy(); // 1.5 WETH realised, 18 decimals
    fireEvent.click(rows[0]);
    const dialog = screen.getByRole('dialog', { name: 'Trade details' });
    expect(within(dialog).getAllByText(HASH(2)).length).toBeGreaterThan(0);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Close' }));
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  it('sends the filters and paging as the query', async () => {
    const { api, calls } = tradesApi(() => ({ items: [trade(1)], total: 60, page: 1, page_size: 25, pages: 3 }));
    renderSignedIn(<Trades />, { api });
    await screen.findAllByTestId('trade-row');
    fireEvent.change(screen.getByLabelText('Chain'), { target: { value: 'ethereum' } });
    fireEvent.change(screen.getByLabelText('Status'), { target: { value: 'reverted' } });
    fireEvent.click(screen.getByRole('button', { name: 'Apply filters' }));
    await waitFor(() => expect(calls.at(-1)?.params.get('status')).toBe('reverted'));
    expect(Object.fromEntries(calls.at(-1)!.params)).toEqual({ chain: 'ethereum', status: 'reverted', page: '1', page_size: '25' });
    fireEvent.click(screen.getByRole('button', { name: 'Next page' }));
    await waitFor(() => expect(calls.at(-1)?.params.get('page')).toBe('2'));
  });

  it('a trade mined live refetches page 1 (new trades appear without polling)', async () => {
    let items = [trade(1)];
    const { api, calls } = tradesApi(() => ({ items, total: items.length, page: 1, page_size: 25, pages: 1 }));
    renderSignedIn(<Trades />, { api });
    openAll();
    await screen.findAllByTestId('trade-row');
    const before = calls.filter((c) => c.path === '/history/trades').length;
    items = [trade(2), trade(1)];
    push('trades', 1, { id: 't2', strategy: 'arb', chain: 'ethereum', status: 'mined', tx_hash: HASH(2), block: 102, gas_used: 1,
      realized_profit: '1', expected_profit: '1', token: WETH, reason: '' });
    await waitFor(() => expect(screen.getAllByTestId('trade-row')).toHaveLength(2), { timeout: 3000 });
    expect(calls.filter((c) => c.path === '/history/trades').length).toBe(before + 1);
    expect(screen.getByTestId('trades-total').textContent).toBe('2');
  });

  it('live refetches keep to the REST budget: a second burst within 5 s waits for the interval', async () => {
    const { api, calls } = tradesApi(() => ({ items: [trade(1)], total: 1, page: 1, page_size: 25, pages: 1 }));
    renderSignedIn(<Trades />, { api });
    openAll();
    await screen.findAllByTestId('trade-row');
    const count = () => calls.filter((c) => c.path === '/history/trades').length;
    const before = count();
    const event = (n: number) => ({ id: `t${n}`, strategy: 'arb', chain: 'ethereum', status: 'mined', tx_hash: HASH(n), block: n,
      gas_used: 1, realized_profit: '1', expected_profit: '1', token: WETH, reason: '' });
    push('trades', 1, event(2));
    push('trades', 2, event(3));
    await waitFor(() => expect(count()).toBe(before + 1), { timeout: 3000 });   // one burst, one refetch
    push('trades', 3, event(4));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(count()).toBe(before + 1);   // not yet: the last refetch was under 5 s ago
  });

  it('a gap in the trades stream refetches over REST', async () => {
    const { api, calls } = tradesApi(() => ({ items: [trade(1)], total: 1, page: 1, page_size: 25, pages: 1 }));
    renderSignedIn(<Trades />, { api });
    openAll();
    await screen.findAllByTestId('trade-row');
    const before = calls.filter((c) => c.path === '/history/trades').length;
    act(() => FakeSocket.last('trades').receive({ gap: true }));
    await waitFor(() => expect(calls.filter((c) => c.path === '/history/trades').length).toBe(before + 1));
  });
});

describe('Opportunities', () => {
  const opp = (id: string, extra: Record<string, unknown> = {}) => ({
    id, strategy: 'arb', chain: 'ethereum', block: 10, token: WETH, amount_in: '1000000000000000000',
    expected_profit: '30000000000000000', gas_cost: '1000000000000000', net_profit: '29000000000000000',
    cycle: [{ pool: '0xp1', token_in: WETH, token_out: '0xcf7ed3acca5a467e9e704c703e8d87f634fb0fc9', fee_bps: 30 },
      { pool: '0xp2', token_in: '0xcf7ed3acca5a467e9e704c703e8d87f634fb0fc9', token_out: WETH, fee_bps: 25 }],
    status: 'found', reason: '', tx_hash: null, found_at: 1800000000, ...extra,
  });

  it('streams new opportunities on top and updates their status from the trades stream', async () => {
    const { api } = fakeApi({ 'GET /status': status(), 'GET /history/pnl': PNL, 'GET /opportunities': { items: [opp('a', { status: 'mined', tx_hash: HASH(9) })] } });
    renderSignedIn(<Opportunities />, { api });
    openAll();
    const table = await screen.findByRole('table', { name: 'Opportunities' });
    await waitFor(() => expect(within(table).getAllByTestId('opportunity-row')).toHaveLength(1));
    push('opportunities', 5, opp('b', { found_at: 1800000001 }));
    await waitFor(() => expect(within(table).getAllByTestId('opportunity-row')).toHaveLength(2));
    let rows = within(table).getAllByTestId('opportunity-row');
    expect(rows.map((r) => r.getAttribute('data-id'))).toEqual(['b', 'a']);
    expect(rows[0].getAttribute('data-status')).toBe('found');
    expect(within(rows[0]).getByText(/WETH → 0xcf7e → WETH/)).toBeTruthy();
    push('trades', 6, { id: 'b', strategy: 'arb', chain: 'ethereum', status: 'simulated_fail', tx_hash: null, block: null, gas_used: null,
      realized_profit: null, expected_profit: '1', token: WETH, reason: 'execution reverted' });
    await waitFor(() => expect(within(table).getAllByTestId('opportunity-row')[0].getAttribute('data-status')).toBe('simulated_fail'));
    rows = within(table).getAllByTestId('opportunity-row');
    expect(within(rows[0]).getByText('simulation failed: execution reverted')).toBeTruthy();
  });
});

describe('Nodes and Overview', () => {
  const NODES = { checked_at: '2026-11-22T06:00:00+00:00', items: [{
    name: 'ethereum/local', chain: 'ethereum', network: 'local', backend: 'process',
    services: [{ service: 'ethereum-local-anvil', client: 'anvil', state: 'running', pid: 42, detail: '' }],
    head: 1234, lag: 0, peers: null, syncing: false, healthy: true,
    checks: [{ client: 'anvil', name: 'syncing', ok: true, detail: 'synced' }], last_backup: null,
  }] };

  it('shows each node, and follows the nodes stream', async () => {
    const { api } = fakeApi({ 'GET /status': status(), 'GET /history/pnl': PNL, 'GET /nodes': NODES });
    renderSignedIn(<Nodes />, { api });
    openAll();
    const row = await screen.findByTestId('node-row');
    expect(row.getAttribute('data-node')).toBe('ethereum/local');
    expect(within(row).getByText('1,234')).toBeTruthy();
    push('nodes', 1, { ...NODES, items: [{ ...NODES.items[0], head: 1300, healthy: false }] });
    expect(within(screen.getByTestId('node-row')).getByText('1,300')).toBeTruthy();
    expect(screen.getByTestId('node-row').getAttribute('data-healthy')).toBe('false');
  });

  it('an engine without the nodes stream is still "live"', async () => {
    const { api } = fakeApi({ 'GET /status': status(), 'GET /history/pnl': PNL });
    renderSignedIn(<Overview />, { api });
    openAll();
    act(() => FakeSocket.last('nodes').serverClose(1008, "unknown stream 'nodes'"));
    await screen.findByText(/node health is not available/);
  });

  it('shows realised PnL totals from the series with BigInt precision, and alerts from the stream', async () => {
    const pnl = { series: [{ token: WETH, symbol: 'WETH', decimals: 18, points: [
      { at: '2026-11-22T06:00:00Z', cumulative: '1000000000000000000' },
      { at: '2026-11-22T06:01:00Z', cumulative: '123456789123456789012345678' },
    ] }], gas_spent_wei: '2000000000000000', realized_usd: 12.5 };
    const { api } = fakeApi({ 'GET /status': status(), 'GET /history/pnl': pnl, 'GET /nodes': NODES, 'GET /metrics': { realized_pnl_usd: { arb: 12.5 }, gas_spent_wei: {} } });
    renderSignedIn(<Overview />, { api });
    openAll();
    expect(await screen.findByText('123,456,789.123457')).toBeTruthy();
    expect(screen.getByTestId('gas-spent').textContent).toBe('0.002 ETH');
    push('alerts', 1, { severity: 'critical', alert: 'emergency_stop', message: 'stopped by ops', engine: 'e' });
    push('alerts', 2, { severity: 'info', alert: 'trading_started', message: 'trading started', engine: 'e' });
    push('alerts', 2, { severity: 'info', alert: 'trading_started', message: 'trading started', engine: 'e' }); // a replayed duplicate
    const list = await screen.findByRole('list', { name: 'Alerts' });
    expect(within(list).getAllByRole('listitem').map((li) => li.textContent)).toEqual([
      expect.stringContaining('trading started'), expect.stringContaining('stopped by ops'),
    ]);
  });
});
