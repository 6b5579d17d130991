import { memo, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Amount, ErrorNote, StatusBadge, TxHash } from '../components/bits';
import { errorText } from '../lib/api';
import { formatTime } from '../lib/format';
import { addOpportunity, applyTradeEvent, outcome } from '../lib/opportunities';
import { tokenMeta } from '../lib/tokens';
import { useLive, useStream } from '../live';
import { useSession } from '../session';
import type { Hop, Opportunity, TradeEvent } from '../types';

const BATCH_MS = 400;

function applyBatch(rows: Opportunity[], batch: { kind: 'opp' | 'trade'; data: unknown }[]): Opportunity[] {
  let next = rows;
  for (const item of batch) {
    next = item.kind === 'opp' ? addOpportunity(next, item.data as Opportunity) : applyTradeEvent(next, item.data as TradeEvent);
  }
  return next;
}

// `tokens`: re-render when token symbols/decimals were learned
const Row = memo(function Row({ o, stale }: { o: Opportunity; stale: boolean; tokens: number }) {
  return (
    <tr data-testid="opportunity-row" data-id={o.id} data-status={o.status}>
      <td className="mono nowrap" title={formatTime(o.found_at)}>{formatTime(o.found_at).slice(11)}</td>
      <td className="nowrap">{o.strategy}</td>
      <td className="num">{o.block}</td>
      <td><Cycle hops={o.cycle} /></td>
      <td className="r nowrap"><Amount raw={o.amount_in} token={o.token} /></td>
      <td className="r nowrap"><Amount raw={o.expected_profit} token={o.token} signed /></td>
      <td className="r nowrap"><Amount raw={o.gas_cost} token={o.token} /></td>
      <td className="r nowrap"><Amount raw={o.net_profit} token={o.token} signed /></td>
      <td><StatusBadge status={o.status} /></td>
      <td className="small">{outcome(o, stale ? o.block + 1 : o.block)}</td>
      <td><TxHash hash={o.tx_hash} chain={o.chain} /></td>
    </tr>
  );
});

function Cycle({ hops }: { hops: Hop[] }) {
  if (!hops?.length) return <span className="muted">—</span>;
  const name = (t: string) => (tokenMeta(t).known ? tokenMeta(t).symbol : t.slice(0, 6));
  const path = [hops[0].token_in, ...hops.map((h) => h.token_out)].map(name);
  return (
    <span className="cycle" title={hops.map((h) => `pool ${h.pool}: ${tokenMeta(h.token_in).symbol} → ${tokenMeta(h.token_out).symbol} (${h.fee_bps} bps)`).join('\n')}>
      <span className="nowrap">{path.join(' → ')}</span>
      <br />
      <span className="muted small nowrap">{hops.length} hops · fees {hops.map((h) => h.fee_bps).join('/')} bps</span>
    </span>
  );
}

export function Opportunities() {
  const { api } = useSession();
  const { resync, status: engine, tokens } = useLive();
  const lastBlock = engine?.last_block;
  const [rows, setRows] = useState<Opportunity[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [strategy, setStrategy] = useState('');
  const [status, setStatus] = useState('');
  const [frozen, setFrozen] = useState<Opportunity[] | null>(null);

  const load = useCallback(() => {
    api.get<{ items: Opportunity[] }>('/opportunities', { limit: 200 }).then(
      (body) => {
        // keep what streamed in meanwhile; the REST answer is the base
        setRows((prev) => {
          const byId = new Map(body.items.map((o) => [o.id, o]));
          const newer = prev.filter((o) => !byId.has(o.id) && o.found_at > (body.items[0]?.found_at ?? 0));
          return [...newer, ...body.items].slice(0, 200);
        });
        setLoaded(true);
        setError(null);
      },
      (err) => setError(errorText(err)),
    );
  }, [api]);

  useEffect(load, [load, resync.opportunities, resync.trades]);

  // a busy engine streams many messages a second: apply them in batches, one render each
  const pending = useRef<{ kind: 'opp' | 'trade'; data: unknown }[]>([]);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const enqueue = useCallback((kind: 'opp' | 'trade', data: unknown) => {
    pending.current.push({ kind, data });
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      const batch = pending.current;
      pending.current = [];
      setRows((prev) => applyBatch(prev, batch));
    }, BATCH_MS);
  }, []);
  useEffect(() => () => {
    if (timer.current) clearTimeout(timer.current);
  }, []);
  useStream('opportunities', (m) => enqueue('opp', m.data));
  useStream('trades', (m) => enqueue('trade', m.data));

  const strategies = useMemo(() => [...new Set(rows.map((r) => r.strategy))].sort(), [rows]);
  const statuses = useMemo(() => [...new Set(rows.map((r) => r.status))].sort(), [rows]);
  const base = frozen ?? rows;
  const newer = frozen ? rows.filter((r) => !frozen.some((f) => f.id === r.id)).length : 0;
  const shown = base.filter((r) => (!strategy || r.strategy === strategy) && (!status || r.status === status));

  return (
    <section className="card">
      <div className="toolbar">
        <label>
          Strategy
          <select value={strategy} onChange={(e) => setStrategy(e.target.value)} aria-label="Filter by strategy">
            <option value="">all</option>
            {strategies.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.target.value)} aria-label="Filter by status">
            <option value="">all</option>
            {statuses.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <button type="button" className="ghost" aria-pressed={frozen !== null} onClick={() => setFrozen((f) => (f ? null : rows))}>
          {frozen ? 'Resume live' : 'Pause live'}
        </button>
        <span className="muted small" aria-live="polite">
          {shown.length} shown · newest first · {frozen ? `paused (${newer} new since)` : 'streamed live'}
        </span>
      </div>
      <ErrorNote error={error} />
      <div className="table-wrap">
        <table aria-label="Opportunities" className="data">
          <thead>
            <tr>
              <th scope="col">Found</th>
              <th scope="col">Strategy</th>
              <th scope="col">Block</th>
              <th scope="col">Cycle</th>
              <th scope="col" className="r">Size</th>
              <th scope="col" className="r">Expected profit</th>
              <th scope="col" className="r">Gas cost</th>
              <th scope="col" className="r">Net</th>
              <th scope="col">Status</th>
              <th scope="col">What became of it</th>
              <th scope="col">Tx</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((o) => (
              <Row key={o.id} o={o} tokens={tokens} stale={o.status === 'found' && lastBlock != null && o.block < lastBlock} />
            ))}
          </tbody>
        </table>
      </div>
      {loaded && shown.length === 0 && <p className="muted">No opportunities yet.</p>}
    </section>
  );
}
