import { useCallback, useEffect, useState } from 'react';
import { ErrorNote, StatusBadge } from '../components/bits';
import { errorText } from '../lib/api';
import { may } from '../lib/roles';
import { useLive } from '../live';
import { useSession } from '../session';
import type { Strategy } from '../types';

export const STAGES = ['research', 'testing', 'active', 'archived'] as const;

export function Strategies() {
  const { api, role } = useSession();
  const { status } = useLive();
  const [items, setItems] = useState<Strategy[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [stage, setStage] = useState('');
  const canSteer = may(role, 'operator');

  const load = useCallback(() => {
    api.get<{ items: Strategy[] }>('/strategies').then(
      (body) => {
        setItems(body.items);
        setError(null);
      },
      (err) => setError(errorText(err)),
    );
  }, [api]);

  useEffect(load, [load]);

  // the metrics stream carries each loaded strategy's enabled flag: keep the table current
  const live = status?.strategies;
  const shown = (items ?? [])
    .map((s) => (live && live[s.name] && s.loaded ? { ...s, enabled: live[s.name].enabled } : s))
    .filter((s) => !stage || s.stage === stage);

  async function toggle(s: Strategy) {
    setBusy(s.name);
    setError(null);
    try {
      await api.post(`/strategies/${encodeURIComponent(s.name)}/${s.enabled ? 'disable' : 'enable'}`);
      load();
    } catch (err) {
      setError(`${s.enabled ? 'Disable' : 'Enable'} ${s.name}: ${errorText(err)}`);
    } finally {
      setBusy(null);
    }
  }

  const counts = Object.fromEntries(STAGES.map((st) => [st, (items ?? []).filter((s) => s.stage === st).length]));

  return (
    <section className="card">
      <div className="toolbar">
        <label>
          Stage
          <select value={stage} onChange={(e) => setStage(e.target.value)}>
            <option value="">all stages</option>
            {STAGES.map((st) => (
              <option key={st} value={st}>
                {st} ({counts[st]})
              </option>
            ))}
          </select>
        </label>
        <span className="muted small">
          Stages: research → testing (paper trades) → active (live) → archived.
          {!canSteer && ' Enabling and disabling needs the operator role.'}
          {status && !status.trading && ' Trading is stopped: enabled strategies trade once it starts.'}
        </span>
      </div>
      <ErrorNote error={error} />
      <div className="table-wrap">
        <table aria-label="Strategies" className="data">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Type</th>
              <th scope="col">Stage</th>
              <th scope="col">Mode</th>
              <th scope="col">Chains</th>
              <th scope="col">In file</th>
              <th scope="col">Loaded</th>
              <th scope="col">Enabled</th>
              {canSteer && <th scope="col">Action</th>}
            </tr>
          </thead>
          <tbody>
            {shown.map((s) => (
              <tr key={s.name} data-testid="strategy-row" data-name={s.name}>
                <td><strong>{s.name}</strong></td>
                <td>{s.type ?? '—'}</td>
                <td><StatusBadge status={s.stage ?? 'unknown'} /></td>
                <td>{s.mode ?? '—'}</td>
                <td>{s.chains.join(', ')}</td>
                <td>{s.enabled_in_file === null ? '—' : s.enabled_in_file ? 'enabled' : 'disabled'}</td>
                <td>{s.loaded ? 'yes' : 'no'}</td>
                <td data-testid="strategy-enabled">{s.enabled ? 'on' : 'off'}</td>
                {canSteer && (
                  <td>
                    {s.loaded ? (
                      <button type="button" className={s.enabled ? 'danger small-btn' : 'primary small-btn'} disabled={busy === s.name}
                        onClick={() => toggle(s)}>
                        {s.enabled ? `Disable ${s.name}` : `Enable ${s.name}`}
                      </button>
                    ) : (
                      <span className="muted small">not loaded</span>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {items && shown.length === 0 && <p className="muted">No strategies{stage ? ` in stage ${stage}` : ''}.</p>}
    </section>
  );
}
