import { useCallback, useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { Amount, ErrorNote, EXPLORER_KEY, StatusBadge, TxHash, explorerTemplate } from '../components/bits';
import { Dialog } from '../components/Dialog';
import { errorText } from '../lib/api';
import { exactUnits, formatEth, formatGwei, formatInt, formatTime } from '../lib/format';
import { DEFAULT_FILTERS, TRADE_STATUSES, filterProblems, liveTradeMatches, tradeQuery, type TradeFilters } from '../lib/filters';
import { tokenMeta } from '../lib/tokens';
import { useLive, useStream } from '../live';
import { useSession } from '../session';
import type { Trade, TradeEvent, TradePage } from '../types';

// live refetches: coalesced, and at most one per LIVE_MIN_INTERVAL_MS (each is a REST call against the
// token's budget, global.security.api_rate_limits.default: 1000/hour in the reference workspace)
const LIVE_REFRESH_MS = 700;
const LIVE_MIN_INTERVAL_MS = 5000;

/** Sums of the shown page: realised profit per token, gas. */
export function pageTotals(items: Trade[]): { profit: Map<string, bigint>; gas: bigint } {
  const profit = new Map<string, bigint>();
  let gas = 0n;
  for (const t of items) {
    if (t.realized_profit) profit.set(t.token, (profit.get(t.token) ?? 0n) + BigInt(t.realized_profit));
    if (t.gas_cost_wei) gas += BigInt(t.gas_cost_wei);
  }
  return { profit, gas };
}

function Details({ trade, onClose }: { trade: Trade; onClose: () => void }) {
  const meta = tokenMeta(trade.token);
  const rows: [string, ReactNode][] = [
    ['Tx hash', <span className="mono break" data-testid="detail-tx">{trade.tx_hash}</span>],
    ['Status', <StatusBadge status={trade.status} />],
    ['Reason', trade.reason || '—'],
    ['Chain', trade.chain],
    ['Strategy', trade.strategy],
    ['Trade id', <span className="mono break">{trade.id}</span>],
    ['Opportunity', <span className="mono break">{trade.opportunity_id ?? '—'}</span>],
    ['Sender', <span className="mono break">{trade.sender ?? '—'}</span>],
    ['Nonce', trade.nonce ?? '—'],
    ['Block', trade.block ?? '—'],
    ['Token', <span className="mono break">{trade.token} ({meta.symbol}, {meta.decimals} decimals{meta.known ? '' : ' assumed'})</span>],
    ['Amount in', <><Amount raw={trade.amount_in} token={trade.token} /> <span className="muted small">({exactUnits(trade.amount_in, meta.decimals)})</span></>],
    ['Realised profit', trade.realized_profit === null ? '—' : <><Amount raw={trade.realized_profit} token={trade.token} signed /> <span className="muted small">({exactUnits(trade.realized_profit, meta.decimals)})</span></>],
    ['Gas used', formatInt(trade.gas_used)],
    ['Gas price', formatGwei(trade.effective_gas_price)],
    ['Gas cost', formatEth(trade.gas_cost_wei, 9)],
    ['Created', formatTime(trade.created_at)],
    ['Updated', formatTime(trade.updated_at)],
  ];
  if (explorerTemplate()) rows.splice(1, 0, ['Explorer', <TxHash hash={trade.tx_hash} chain={trade.chain} full />]);
  return (
    <Dialog label="Trade details" onClose={onClose} wide>
      <h2>Trade details</h2>
      <dl className="details">
        {rows.map(([k, v]) => (
          <div key={k} className="detail-row">
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
      <div className="actions">
        <button type="button" className="primary" onClick={onClose} data-autofocus>
          Close
        </button>
      </div>
    </Dialog>
  );
}

function ExplorerSetting({ onChange }: { onChange: () => void }) {
  const [value, setValue] = useState(explorerTemplate);
  const [open, setOpen] = useState(false);
  return (
    <details className="settings" onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>Explorer link</summary>
      {open && <form
        className="toolbar"
        onSubmit={(ev) => {
          ev.preventDefault();
          try {
            if (value.trim()) localStorage.setItem(EXPLORER_KEY, value.trim());
            else localStorage.removeItem(EXPLORER_KEY);
          } catch {
            /* storage off */
          }
          onChange();
        }}
      >
        <label className="grow">
          Explorer URL template
          <input type="url" placeholder="https://etherscan.io/tx/{hash}" value={value} onChange={(e) => setValue(e.target.value)} />
        </label>
        <button type="submit" className="ghost">Save explorer</button>
        <span className="muted small">Tx hashes link to it ({'{hash}'}, {'{chain}'}); empty: plain text.</span>
      </form>}
    </details>
  );
}

export function Trades() {
  const { api } = useSession();
  const { resync, status: engine } = useLive();
  const [draft, setDraft] = useState<TradeFilters>(DEFAULT_FILTERS);
  const [filters, setFilters] = useState<TradeFilters>(DEFAULT_FILTERS);
  const [page, setPage] = useState<TradePage | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [selected, setSelected] = useState<Trade | null>(null);
  // the open trade follows its row when page refetches bring a newer state of it
  const current = selected ? (page?.items.find((t) => t.id === selected.id) ?? selected) : null;
  const [, setExplorerVersion] = useState(0);
  const request = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const lastLive = useRef(-Infinity);

  const load = useCallback(() => {
    const id = ++request.current;
    setLoading(true);
    api.get<TradePage>('/history/trades', new URLSearchParams(tradeQuery(filters))).then(
      (body) => {
        if (id !== request.current) return;
        setPage(body);
        setError(null);
        setLoading(false);
      },
      (err) => {
        if (id !== request.current) return;
        setError(errorText(err));
        setLoading(false);
      },
    );
  }, [api, filters]);

  useEffect(load, [load, resync.trades]);
  useEffect(() => () => {
    if (timer.current) clearTimeout(timer.current);
  }, []);

  // a trade sent, mined, reverted or dropped while page 1 is shown: refetch it (coalesced)
  useStream('trades', (m) => {
    const t = m.data as TradeEvent;
    if (!liveTradeMatches(filters, t)) return;
    if (timer.current) return;
    const wait = Math.max(LIVE_REFRESH_MS, lastLive.current + LIVE_MIN_INTERVAL_MS - Date.now());
    timer.current = setTimeout(() => {
      timer.current = null;
      lastLive.current = Date.now();
      load();
    }, wait);
  });

  const problems = filterProblems(draft);

  function apply(ev: FormEvent) {
    ev.preventDefault();
    if (problems.length) return;
    setFilters({ ...draft, page: 1 });
  }

  function goto(n: number) {
    setFilters((f) => ({ ...f, page: n }));
  }

  const items = page?.items ?? [];
  // suggestions for the filters: what the engine runs and what this page shows
  const known = {
    chains: [...new Set([engine?.chain, ...items.map((t) => t.chain)].filter((x): x is string => Boolean(x)))].sort(),
    strategies: [...new Set([...Object.keys(engine?.strategies ?? {}), ...items.map((t) => t.strategy)])].sort(),
  };
  const totals = pageTotals(items);

  return (
    <section className="card">
      <form className="toolbar filters" onSubmit={apply} aria-label="Trade filters">
        <label>
          Chain
          <input value={draft.chain} onChange={(e) => setDraft({ ...draft, chain: e.target.value })} placeholder="any" size={10} list="chains-known" />
        </label>
        <label>
          Strategy
          <input value={draft.strategy} onChange={(e) => setDraft({ ...draft, strategy: e.target.value })} placeholder="any" size={14} list="strategies-known" />
        </label>
        <label>
          Status
          <select value={draft.status} onChange={(e) => setDraft({ ...draft, status: e.target.value })}>
            <option value="">any</option>
            {TRADE_STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          From
          <input type="datetime-local" step={1} value={draft.since} onChange={(e) => setDraft({ ...draft, since: e.target.value })} />
        </label>
        <label>
          To
          <input type="datetime-local" step={1} value={draft.until} onChange={(e) => setDraft({ ...draft, until: e.target.value })} />
        </label>
        <label>
          Per page
          <select value={draft.pageSize} onChange={(e) => setDraft({ ...draft, pageSize: Number(e.target.value) })}>
            {[10, 25, 50, 100].map((n) => (
              <option key={n} value={n}>{n}</option>
            ))}
          </select>
        </label>
        <datalist id="chains-known">
          {known.chains.map((c) => <option key={c} value={c} />)}
        </datalist>
        <datalist id="strategies-known">
          {known.strategies.map((s) => <option key={s} value={s} />)}
        </datalist>
        <button type="submit" className="primary" disabled={problems.length > 0}>Apply filters</button>
        <button type="button" className="ghost" onClick={() => { setDraft(DEFAULT_FILTERS); setFilters(DEFAULT_FILTERS); }}>
          Clear filters
        </button>
      </form>
      {problems.length > 0 && <p className="error" role="alert">{problems.join('; ')}</p>}
      <ErrorNote error={error} />
      <ExplorerSetting onChange={() => setExplorerVersion((v) => v + 1)} />

      <div className="summary" aria-live="polite">
        <span>
          <span className="muted">Total trades</span> <strong data-testid="trades-total">{page ? page.total : '…'}</strong>
        </span>
        {[...totals.profit.entries()].map(([token, sum]) => (
          <span key={token}>
            <span className="muted">Realised on this page</span> <Amount raw={sum.toString()} token={token} signed />
          </span>
        ))}
        <span>
          <span className="muted">Gas on this page</span> {formatEth(totals.gas.toString())}
        </span>
        {loading && <span className="muted small">loading…</span>}
      </div>

      <div className="table-wrap">
        <table aria-label="Trades" className="data clickable">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Chain</th>
              <th scope="col">Strategy</th>
              <th scope="col">Status</th>
              <th scope="col">Tx hash</th>
              <th scope="col" className="r">Block</th>
              <th scope="col" className="r">Amount in</th>
              <th scope="col" className="r">Realised profit</th>
              <th scope="col" className="r">Gas cost</th>
            </tr>
          </thead>
          <tbody>
            {items.map((t) => (
              <tr key={t.id} data-testid="trade-row" data-tx={t.tx_hash} data-status={t.status} tabIndex={0}
                aria-label={`Trade ${t.tx_hash}: open details`}
                onClick={() => setSelected(t)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' || e.key === ' ') {
                    e.preventDefault();
                    setSelected(t);
                  }
                }}>
                <td className="mono nowrap">{formatTime(t.created_at)}</td>
                <td>{t.chain}</td>
                <td className="nowrap">{t.strategy}</td>
                <td><StatusBadge status={t.status} /></td>
                <td><TxHash hash={t.tx_hash} chain={t.chain} /></td>
                <td className="r num">{t.block ?? '—'}</td>
                <td className="r nowrap"><Amount raw={t.amount_in} token={t.token} /></td>
                <td className="r nowrap"><Amount raw={t.realized_profit} token={t.token} signed /></td>
                <td className="r nowrap">{formatEth(t.gas_cost_wei)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {page && items.length === 0 && <p className="muted">No trades match.</p>}

      {page && (
        <nav className="pager" aria-label="Trade pages">
          <button type="button" className="ghost" disabled={page.page <= 1} onClick={() => goto(1)}>First page</button>
          <button type="button" className="ghost" disabled={page.page <= 1} onClick={() => goto(page.page - 1)}>Previous page</button>
          <span>
            Page <strong>{page.page}</strong> of {Math.max(1, page.pages)}
          </span>
          <button type="button" className="ghost" disabled={page.page >= page.pages} onClick={() => goto(page.page + 1)}>Next page</button>
          <button type="button" className="ghost" disabled={page.page >= page.pages} onClick={() => goto(page.pages)}>Last page</button>
        </nav>
      )}
      {current && <Details trade={current} onClose={() => setSelected(null)} />}
    </section>
  );
}
