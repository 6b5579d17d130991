/** Trade history filters ↔ the query string of GET /history/trades. */

export const TRADE_STATUSES = ['signed', 'sent', 'mined', 'reverted', 'dropped'] as const;

export interface TradeFilters {
  chain: string;
  strategy: string;
  status: string;
  /** `<input type="datetime-local">` values (local time), '' for none. */
  since: string;
  until: string;
  page: number;
  pageSize: number;
}

export const DEFAULT_FILTERS: TradeFilters = { chain: '', strategy: '', status: '', since: '', until: '', page: 1, pageSize: 25 };

/** A datetime-local value (local time) → ISO 8601 UTC; '' when empty or invalid. */
export function localToIso(value: string): string {
  if (!value) return '';
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

/** The query string (without "?") the API expects; empty filters are left out. */
export function tradeQuery(filters: TradeFilters): string {
  const q = new URLSearchParams();
  if (filters.chain.trim()) q.set('chain', filters.chain.trim());
  if (filters.strategy.trim()) q.set('strategy', filters.strategy.trim());
  if ((TRADE_STATUSES as readonly string[]).includes(filters.status)) q.set('status', filters.status);
  const since = localToIso(filters.since);
  const until = localToIso(filters.until);
  if (since) q.set('since', since);
  if (until) q.set('until', until);
  q.set('page', String(Math.max(1, Math.floor(filters.page) || 1)));
  q.set('page_size', String(Math.min(500, Math.max(1, Math.floor(filters.pageSize) || 25))));
  return q.toString();
}

/** Problems with the filters that the user must fix before a query makes sense. */
export function filterProblems(filters: TradeFilters): string[] {
  const out: string[] = [];
  if (filters.since && !localToIso(filters.since)) out.push('"From" is not a valid time');
  if (filters.until && !localToIso(filters.until)) out.push('"To" is not a valid time');
  const since = localToIso(filters.since);
  const until = localToIso(filters.until);
  if (since && until && since > until) out.push('"From" is after "To"');
  return out;
}

export interface LiveTrade {
  chain: string;
  strategy: string;
  status: string;
}

/** Whether a trade streamed live belongs on the page shown with these filters (page 1, no upper time bound). */
export function liveTradeMatches(filters: TradeFilters, trade: LiveTrade): boolean {
  if (filters.page !== 1 || filters.until) return false;
  if (filters.chain.trim() && trade.chain !== filters.chain.trim()) return false;
  if (filters.strategy.trim() && trade.strategy !== filters.strategy.trim()) return false;
  if (filters.status && trade.status !== filters.status) return false;
  return (TRADE_STATUSES as readonly string[]).includes(trade.status);
}
