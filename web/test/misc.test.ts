import { describe, expect, it } from 'vitest';
import { explorerUrl } from '../src/components/bits';
import { createApi, ApiError } from '../src/lib/api';
import { addOpportunity, applyTradeEvent, outcome } from '../src/lib/opportunities';
import { may } from '../src/lib/roles';
import { learnTokens, tokenMeta } from '../src/lib/tokens';
import { headroomPercent } from '../src/pages/Risk';
import { pageFromHash } from '../src/route';
import type { Opportunity, TradeEvent } from '../src/types';

describe('roles', () => {
  it('orders viewer < operator < admin', () => {
    expect(may('viewer', 'operator')).toBe(false);
    expect(may('operator', 'operator')).toBe(true);
    expect(may('admin', 'operator')).toBe(true);
    expect(may('operator', 'admin')).toBe(false);
    expect(may(null, 'viewer')).toBe(false);
  });
});

describe('hash routes', () => {
  it('maps hashes to pages, unknown to the overview', () => {
    expect(pageFromHash('#/trades')).toBe('trades');
    expect(pageFromHash('#/risk?x=1')).toBe('risk');
    expect(pageFromHash('')).toBe('overview');
    expect(pageFromHash('#/nope')).toBe('overview');
  });
});

describe('headroom', () => {
  it('never rounds to full or empty while it is not', () => {
    expect(headroomPercent(1)).toBe('100%');
    expect(headroomPercent(0.99617)).toBe('99.6%');
    expect(headroomPercent(0.99999)).toBe('99.9%');
    expect(headroomPercent(0.00001)).toBe('0.1%');
    expect(headroomPercent(0.75)).toBe('75%');
    expect(headroomPercent(0)).toBe('0%');
    expect(headroomPercent(-0.2)).toBe('0%');
  });
});

describe('explorer links', () => {
  it('fills the template, or appends the hash; only http(s)', () => {
    expect(explorerUrl('https://etherscan.io/tx/{hash}', '0xab')).toBe('https://etherscan.io/tx/0xab');
    expect(explorerUrl('https://x.test/{chain}/tx/', '0xab', 'base')).toBe('https://x.test/base/tx/0xab');
    expect(explorerUrl('', '0xab')).toBeNull();
    expect(explorerUrl('javascript:alert(1)//{hash}', '0xab')).toBeNull();
  });
});

describe('token metadata', () => {
  it('learns symbols and decimals from the PnL answer; unknown tokens assume 18 decimals', () => {
    const usdc = '0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9';
    expect(tokenMeta(usdc)).toMatchObject({ decimals: 18, known: false });
    learnTokens({ series: [], tokens: { [usdc]: { symbol: 'USDC', decimals: 6 } } });
    expect(tokenMeta(usdc.toLowerCase())).toEqual({ symbol: 'USDC', decimals: 6, known: true });
  });
});

describe('opportunity list', () => {
  const o = (id: string): Opportunity => ({ id, strategy: 's', chain: 'c', block: 1, token: '0x', amount_in: '1', expected_profit: '1',
    gas_cost: '0', net_profit: '1', cycle: [], status: 'found', reason: '', tx_hash: null, found_at: 0 });

  it('stays bounded, newest first, without duplicates', () => {
    let list: Opportunity[] = [];
    for (let i = 0; i < 5; i += 1) list = addOpportunity(list, o(`o${i}`), 3);
    expect(list.map((x) => x.id)).toEqual(['o4', 'o3', 'o2']);
    expect(addOpportunity(list, o('o3'), 3).map((x) => x.id)).toEqual(['o3', 'o4', 'o2']);
  });

  it('takes a result for its id only', () => {
    const list = [o('a'), o('b')];
    const ev = { id: 'b', status: 'sent', tx_hash: '0x1', reason: '' } as TradeEvent;
    const next = applyTradeEvent(list, ev);
    expect(next.map((x) => [x.status, x.tx_hash])).toEqual([['found', null], ['sent', '0x1']]);
    expect(applyTradeEvent(list, { ...ev, id: 'zzz' })).toBe(list);
    expect(outcome({ status: 'refused', reason: 'min_profit' })).toBe('refused by risk: min_profit');
  });
});

describe('REST client', () => {
  const reply = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });

  it('sends the bearer token, reports 401 to the app, and a 403 as not allowed', async () => {
    let unauthorized = 0;
    const seen: (string | null)[] = [];
    const answers = [reply(401, { detail: 'unknown or revoked token' }), reply(403, { detail: 'needs the operator role' })];
    const api = createApi('t0k', { onUnauthorized: () => (unauthorized += 1),
      fetch: async (_u, init) => { seen.push(new Headers(init?.headers).get('Authorization')); return answers.shift()!; } });
    await expect(api.get('/status')).rejects.toMatchObject({ status: 401 });
    expect(unauthorized).toBe(1);
    await expect(api.post('/trading/stop')).rejects.toThrow(/not allowed: needs the operator role/);
    expect(seen).toEqual(['Bearer t0k', 'Bearer t0k']);
  });

  it('waits Retry-After once on a 429 GET, then gives up with the wait', async () => {
    const waits: number[] = [];
    const answers = [reply(429, { detail: 'slow down' }, { 'Retry-After': '2' }), reply(200, { ok: 1 }),
      reply(429, {}, { 'Retry-After': '3' }), reply(429, {}, { 'Retry-After': '3' })];
    const api = createApi('t', { fetch: async () => answers.shift()!, sleep: async (ms) => { waits.push(ms); } });
    expect(await api.get('/status')).toEqual({ ok: 1 });
    const err = (await api.get("/status").catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.retryAfter).toBe(3);
    expect(waits).toEqual([2000, 3000]);
  });
});

describe('opportunity outcome', () => {
  it('a found opportunity whose block is past was not executed', () => {
    expect(outcome({ status: 'found', reason: '', block: 10 }, 10)).toBe('found: waiting for simulation');
    expect(outcome({ status: 'found', reason: '', block: 9 }, 10)).toBe('not executed (no result for it)');
    expect(outcome({ status: 'mined', reason: '' }, 10)).toBe('landed');
  });
});
