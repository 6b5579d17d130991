import { describe, expect, it } from 'vitest';
import { DEFAULT_FILTERS, filterProblems, liveTradeMatches, localToIso, tradeQuery } from '../src/lib/filters';

describe('trade filters → query string', () => {
  it('leaves empty filters out and always sends page and page_size', () => {
    expect(tradeQuery(DEFAULT_FILTERS)).toBe('page=1&page_size=25');
  });

  it('sends chain, strategy, status and the time range as ISO UTC', () => {
    const q = new URLSearchParams(tradeQuery({
      ...DEFAULT_FILTERS, chain: ' ethereum ', strategy: 'eth-usdc-dex-arbitrage', status: 'mined',
      since: '2026-11-22T06:30', until: '2026-11-22T07:45:30', page: 3, pageSize: 50,
    }));
    expect(Object.fromEntries(q)).toEqual({
      chain: 'ethereum', strategy: 'eth-usdc-dex-arbitrage', status: 'mined',
      since: '2026-11-22T06:30:00.000Z', until: '2026-11-22T07:45:30.000Z', page: '3', page_size: '50',
    });
  });

  it('drops a status the API does not know and clamps paging', () => {
    const q = new URLSearchParams(tradeQuery({ ...DEFAULT_FILTERS, status: 'found', page: 0, pageSize: 9999 }));
    expect(q.has('status')).toBe(false);
    expect(q.get('page')).toBe('1');
    expect(q.get('page_size')).toBe('500');
  });

  it('escapes what it sends', () => {
    expect(tradeQuery({ ...DEFAULT_FILTERS, strategy: 'a&b=c' })).toContain('strategy=a%26b%3Dc');
  });

  it('reports an inverted or invalid time range', () => {
    expect(filterProblems({ ...DEFAULT_FILTERS, since: '2026-11-22T08:00', until: '2026-11-22T07:00' })).toEqual(['"From" is after "To"']);
    expect(filterProblems({ ...DEFAULT_FILTERS, since: 'yesterday' })).toEqual(['"From" is not a valid time']);
    expect(filterProblems({ ...DEFAULT_FILTERS, since: '2026-11-22T06:00', until: '2026-11-22T07:00' })).toEqual([]);
    expect(localToIso('')).toBe('');
  });

  it('lets a live trade onto page 1 only when it matches the filters', () => {
    const t = { chain: 'ethereum', strategy: 'arb', status: 'mined' };
    expect(liveTradeMatches(DEFAULT_FILTERS, t)).toBe(true);
    expect(liveTradeMatches({ ...DEFAULT_FILTERS, page: 2 }, t)).toBe(false);
    expect(liveTradeMatches({ ...DEFAULT_FILTERS, chain: 'base' }, t)).toBe(false);
    expect(liveTradeMatches({ ...DEFAULT_FILTERS, strategy: 'other' }, t)).toBe(false);
    expect(liveTradeMatches({ ...DEFAULT_FILTERS, status: 'reverted' }, t)).toBe(false);
    expect(liveTradeMatches({ ...DEFAULT_FILTERS, until: '2026-11-22T07:00' }, t)).toBe(false);
    expect(liveTradeMatches(DEFAULT_FILTERS, { ...t, status: 'simulated_fail' })).toBe(false); // never a stored trade
  });
});
