import { useCallback, useEffect, useRef, useState } from 'react';
import { ErrorNote, Meter, StatusBadge } from '../components/bits';
import { ConfirmStop } from '../components/ConfirmStop';
import { errorText } from '../lib/api';
import { formatUsd } from '../lib/format';
import { may } from '../lib/roles';
import { useLive, useStream } from '../live';
import { useSession } from '../session';
import type { AlertData, RiskState, Status } from '../types';

const LIMIT_LABELS: Record<string, string> = {
  daily_loss: 'Daily loss',
  hourly_loss: 'Hourly loss',
  total_exposure: 'Total exposure',
};

/** 0.9962 → "99.6%": never shows 100% while some of the limit is used, nor 0% while some is left. */
export function headroomPercent(ratio: number): string {
  const pct = Math.max(0, Math.min(1, ratio)) * 100;
  if (pct === 100 || pct === 0) return `${pct}%`;
  const shown = Math.min(99.9, Math.max(0.1, Math.floor(pct * 10) / 10));
  return `${Number.isInteger(shown) ? shown.toFixed(0) : shown.toFixed(1)}%`;
}

function breakerState(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && 'state' in value) return String((value as { state: unknown }).state);
  return JSON.stringify(value);
}

export function Risk() {
  const { api, role } = useSession();
  const { status, setStatus } = useLive();
  const [risk, setRisk] = useState<RiskState | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const canSteer = may(role, 'operator');

  const load = useCallback(() => {
    api.get<RiskState>('/risk').then(
      (body) => {
        setRisk(body);
        setError(null);
      },
      (err) => setError(errorText(err)),
    );
  }, [api]);

  useEffect(load, [load]);

  // a trade result moves exposure and losses: refetch soon, at most once every 5 s (no polling; each
  // refetch counts against the token's REST budget, 1000/hour by default)
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  const lastRefetch = useRef(-Infinity);
  useEffect(() => () => {
    if (pending.current) clearTimeout(pending.current);
  }, []);
  useStream('trades', () => {
    if (pending.current) return;
    pending.current = setTimeout(() => {
      pending.current = null;
      lastRefetch.current = Date.now();
      load();
    }, Math.max(1000, lastRefetch.current + 5000 - Date.now()));
  });

  // breakers and stops announce themselves as alerts: refetch then (no polling)
  useStream('alerts', (m) => {
    const a = m.data as AlertData;
    if (/circuit_breaker|emergency_stop|trading_|strategies_reloaded|config_updated/.test(a.alert)) load();
  });

  // the stop reason: the live status first (metrics stream, every second), else the risk answer
  const reason = status ? status.emergency_stop : typeof risk?.emergency_stop === 'string' ? risk.emergency_stop : null;
  const active = status ? Boolean(status.emergency_stop) : Boolean(risk?.emergency_stop);

  async function act(path: string, body?: unknown, update?: (s: Status) => Status) {
    setBusy(true);
    setError(null);
    try {
      await api.post(path, body);
      if (update) setStatus((s) => (s ? update(s) : s));
      load();
    } catch (err) {
      setError(errorText(err));
      throw err;
    } finally {
      setBusy(false);
    }
  }

  async function emergencyStop(why: string) {
    const result = await api.post<{ emergency_stop: string; trading: boolean }>('/risk/emergency-stop', { reason: why });
    setStatus((s) => (s ? { ...s, emergency_stop: result.emergency_stop || why, trading: false } : s));
    setConfirming(false);
    load();
  }

  const quiet = (p: Promise<unknown>) => p.catch(() => undefined);

  return (
    <div className="grid">
      <section className="card span-2" aria-labelledby="stop-h">
        <h2 id="stop-h">Trading</h2>
        <p className={`emergency ${active ? 'bad' : 'good'}`} data-testid="emergency-state" role="status">
          {active ? 'emergency stop: active' : 'emergency stop: off'}
        </p>
        {active && reason && <p className="muted">Reason: {reason}</p>}
        <p>
          Trading is <strong data-testid="trading-state">{status ? (status.trading ? 'on' : 'off') : '…'}</strong>
          {risk?.active_strategies && (
            <span className="muted"> · live strategies: {risk.active_strategies.length ? risk.active_strategies.join(', ') : 'none'}</span>
          )}
          {risk?.open_trades !== undefined && <span className="muted"> · open trades: {risk.open_trades}</span>}
        </p>
        {canSteer ? (
          <div className="actions left">
            <button type="button" className="danger big" onClick={() => setConfirming(true)} disabled={busy}>
              Emergency stop
            </button>
            {active && (
              <button type="button" className="primary" disabled={busy}
                onClick={() => quiet(act('/risk/resume', undefined, (s) => ({ ...s, emergency_stop: null })))}>
                Resume
              </button>
            )}
            {!active && status && !status.trading && (
              <button type="button" className="primary" disabled={busy}
                onClick={() => quiet(act('/trading/start', undefined, (s) => ({ ...s, trading: true })))}>
                Start trading
              </button>
            )}
            {status?.trading && (
              <button type="button" className="ghost" disabled={busy}
                onClick={() => quiet(act('/trading/stop', undefined, (s) => ({ ...s, trading: false })))}>
                Stop trading
              </button>
            )}
          </div>
        ) : (
          <p className="muted small">Stopping and starting trading needs the operator role.</p>
        )}
        {active && canSteer && <p className="muted small">Resume clears the stop; trading then stays off until started.</p>}
        <ErrorNote error={error} />
      </section>

      <section className="card" aria-labelledby="limits-h">
        <h2 id="limits-h">Limits and headroom</h2>
        {risk && !risk.enabled && <p className="muted">Risk management is not enabled in this engine.</p>}
        {risk?.headroom && Object.keys(risk.headroom).length === 0 && <p className="muted">No limits configured.</p>}
        {risk?.headroom &&
          Object.entries(risk.headroom).map(([name, h]) => (
            <div key={name} data-testid="headroom" data-limit={name}>
              <Meter label={LIMIT_LABELS[name] ?? name} ratioUsed={1 - h.headroom_ratio}
                text={`${formatUsd(h.used_usd)} of ${formatUsd(h.limit_usd)} (${headroomPercent(h.headroom_ratio)} headroom)`} />
              <p className="muted small">limit from {h.source}</p>
            </div>
          ))}
      </section>

      <section className="card" aria-labelledby="breakers-h">
        <h2 id="breakers-h">Circuit breakers</h2>
        {risk?.breakers && Object.keys(risk.breakers).length > 0 ? (
          <div className="table-wrap">
            <table className="data" aria-label="Circuit breakers">
              <thead>
                <tr>
                  <th scope="col">Breaker</th>
                  <th scope="col">State</th>
                </tr>
              </thead>
              <tbody>
                {Object.entries(risk.breakers).map(([name, value]) => (
                  <tr key={name} data-testid="breaker-row">
                    <td>{name}</td>
                    <td><StatusBadge status={breakerState(value)} /></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <p className="muted">{risk ? 'No circuit breakers.' : '…'}</p>
        )}
      </section>

      {confirming && <ConfirmStop onConfirm={emergencyStop} onCancel={() => setConfirming(false)} />}
    </div>
  );
}
