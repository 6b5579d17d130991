import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { Amount, StatusBadge } from '../components/bits';
import { LineChart } from '../components/Chart';
import { ApiError, errorText } from '../lib/api';
import { formatDuration, formatEth, formatInt, formatTime, formatUsd } from '../lib/format';
import { appendProfit, toChartData, totals, type PnlResponse, type PnlSeries } from '../lib/pnl';
import { learnTokens, tokenMeta } from '../lib/tokens';
import { useLive, useStream } from '../live';
import { useSession } from '../session';
import type { Status, TradeEvent } from '../types';

export function engineState(status: Pick<Status, 'emergency_stop' | 'trading'> | null): 'emergency stop' | 'trading' | 'stopped' | 'unknown' {
  if (!status) return 'unknown';
  if (status.emergency_stop) return 'emergency stop';
  return status.trading ? 'trading' : 'stopped';
}

interface MetricsJson {
  realized_pnl_usd?: Record<string, number>;
  gas_spent_wei?: Record<string, string>;
}

function Stat({ label, value, testid, hint }: { label: string; value: ReactNode; testid?: string; hint?: string }) {
  return (
    <div className="stat" title={hint}>
      <div className="stat-label">{label}</div>
      <div className="stat-value" data-testid={testid}>
        {value}
      </div>
    </div>
  );
}

export function Overview() {
  const { api } = useSession();
  const { status, nodes, nodesAvailable, alerts, resync } = useLive();
  const [pnl, setPnl] = useState<PnlResponse | null>(null);
  const [pnlError, setPnlError] = useState<string | null>(null);
  const [metrics, setMetrics] = useState<MetricsJson | null>(null);

  const loadPnl = useCallback(() => {
    const since = new Date(Date.now() - 24 * 3600 * 1000).toISOString();
    api.get<PnlResponse>('/history/pnl', { since }).then(
      (body) => {
        learnTokens(body);
        setPnl(body);
        setPnlError(null);
      },
      (err) => setPnlError(err instanceof ApiError && err.status === 404 ? 'This engine has no PnL history endpoint.' : errorText(err)),
    );
    api.get<MetricsJson>('/metrics').then(setMetrics, () => undefined);
  }, [api]);

  useEffect(loadPnl, [loadPnl, resync.trades]);

  // a mined trade with a realised profit extends its token's series (applied in batches: a busy
  // engine mines many a second)
  const pending = useRef<{ t: TradeEvent; at: string }[]>([]);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => {
    if (timer.current) clearTimeout(timer.current);
  }, []);
  useStream('trades', (message) => {
    const t = message.data as TradeEvent;
    if (t.status !== 'mined' || t.realized_profit === null) return;
    pending.current.push({ t, at: new Date(message.at * 1000).toISOString() });
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      const batch = pending.current;
      pending.current = [];
      setPnl((prev) => {
        if (!prev) return prev;
        let series = prev.series;
        for (const { t: trade, at } of batch) series = appendProfit(series, trade, at, tokenMeta(trade.token));
        return { ...prev, series };
      });
    }, 500);
  });

  const series: PnlSeries[] = pnl?.series ?? [];
  const chart = useMemo(() => toChartData(series), [series]);
  const state = engineState(status);
  const opp = status?.opportunities;
  const usdByStrategy = metrics?.realized_pnl_usd ?? {};
  const usdTotal = Object.values(usdByStrategy).reduce((a, b) => a + b, 0);

  return (
    <div className="grid">
      <section className="card span-2" aria-labelledby="engine-h">
        <h2 id="engine-h">Engine</h2>
        <div className="stats">
          <Stat label="State" value={<span className={`state ${state.replace(' ', '-')}`} data-testid="engine-state">{state}</span>}
            hint={status?.emergency_stop ?? undefined} />
          <Stat label="Mode" value={status?.mode ?? '—'} />
          <Stat label="Chain" value={status?.chain ?? '—'} />
          <Stat label="Last block" value={formatInt(status?.last_block)} />
          <Stat label="Blocks processed" value={formatInt(status?.blocks_processed)} />
          <Stat label="Event lag" value={status?.event_lag_ms != null ? `${status.event_lag_ms.toFixed(1)} ms` : '—'} />
          <Stat label="Uptime" value={formatDuration(status?.uptime_s)} />
          <Stat label="Replica" value={status?.replica ? status.replica.role : '—'} hint={status?.replica?.id} />
        </div>
        {status?.emergency_stop && <p className="banner bad" role="status">Emergency stop: {status.emergency_stop}</p>}
      </section>

      <section className="card" aria-labelledby="opp-h">
        <h2 id="opp-h">Opportunities</h2>
        <div className="stats">
          <Stat label="Found" value={formatInt(opp?.found)} testid="found-count" />
          <Stat label="Simulated" value={formatInt(opp?.simulated)} />
          <Stat label="Sent" value={formatInt(opp?.sent)} testid="sent-count" />
          <Stat label="Landed" value={String(opp?.landed ?? 0)} testid="landed-count" />
        </div>
      </section>

      <section className="card" aria-labelledby="chains-h">
        <h2 id="chains-h">Chains and nodes</h2>
        {nodes && nodes.items.length > 0 ? (
          <ul className="plain">
            {nodes.items.map((n) => (
              <li key={n.name} className="row-between">
                <span>
                  <strong>{n.name}</strong> <span className="muted">{n.backend}</span>
                </span>
                <span>
                  <span className="muted">head</span> {formatInt(n.head)} <StatusBadge status={n.healthy ? 'healthy' : 'down'} />
                </span>
              </li>
            ))}
          </ul>
        ) : (
          <p className="muted">
            {status ? `${status.chain}: ${status.running ? 'engine running' : 'engine not running'}` : '—'}
            {nodesAvailable ? (nodes ? '; no managed nodes known.' : '') : '; node health is not available from this engine.'}
          </p>
        )}
      </section>

      <section className="card span-2" aria-labelledby="pnl-h">
        <h2 id="pnl-h">Realised PnL (last 24 h)</h2>
        <div className="stats">
          {totals(series).map((t) => (
            <Stat key={t.token} label={`Total ${t.symbol}`} value={<Amount raw={t.total} token={t.token} signed />} />
          ))}
          <Stat label="Realised (USD)" value={formatUsd(pnl?.realized_usd ?? (metrics ? usdTotal : null))} />
          <Stat label="Gas spent (24 h)" value={formatEth(pnl?.gas_spent_wei ?? null)} testid="gas-spent" />
          {Object.entries(metrics?.gas_spent_wei ?? {}).map(([chain, wei]) => (
            <Stat key={chain} label={`Gas spent since start · ${chain}`} value={formatEth(wei)} />
          ))}
        </div>
        {pnlError ? <p className="muted">{pnlError}</p> : <LineChart data={chart} label="Cumulative realised profit per token" />}
      </section>

      <section className="card span-2" aria-labelledby="alerts-h">
        <h2 id="alerts-h">Recent alerts</h2>
        {alerts.length === 0 ? (
          <p className="muted">No alerts.</p>
        ) : (
          <ul className="alerts" aria-label="Alerts">
            {alerts.slice(0, 12).map((a) => (
              <li key={a.seq} className={`alert-item ${a.data.severity}`}>
                <StatusBadge status={a.data.severity} />
                <span className="mono muted">{formatTime(a.at)}</span>
                <strong>{a.data.alert}</strong>
                <span>{a.data.message}</span>
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
