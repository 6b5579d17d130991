import { Fragment, useState } from 'react';
import { StatusBadge } from '../components/bits';
import { formatAgo, formatBytes, formatInt, formatTime } from '../lib/format';
import { useLive } from '../live';
import type { NodeItem } from '../types';

function syncText(n: NodeItem): string {
  if (n.syncing === null) return 'unknown';
  return n.syncing ? 'syncing' : 'synced';
}

export function Nodes() {
  const { nodes, nodesAvailable } = useLive();
  const [open, setOpen] = useState<string | null>(null);

  if (!nodesAvailable) return <section className="card"><p className="muted">This engine does not report node health.</p></section>;

  return (
    <section className="card">
      <p className="muted small" aria-live="polite">
        Checked {nodes?.checked_at ? `${formatTime(nodes.checked_at)} (${formatAgo(nodes.checked_at)})` : 'not yet'} · updated live
      </p>
      <div className="table-wrap">
        <table aria-label="Nodes" className="data">
          <thead>
            <tr>
              <th scope="col">Node</th>
              <th scope="col">Chain</th>
              <th scope="col">Network</th>
              <th scope="col">Backend</th>
              <th scope="col">Health</th>
              <th scope="col" className="r">Head</th>
              <th scope="col" className="r">Lag</th>
              <th scope="col" className="r">Peers</th>
              <th scope="col">Sync</th>
              <th scope="col">Services</th>
              <th scope="col">Last backup</th>
              <th scope="col">Checks</th>
            </tr>
          </thead>
          <tbody>
            {(nodes?.items ?? []).map((n) => (
              <Fragment key={n.name}>
                <tr data-testid="node-row" data-node={n.name} data-healthy={n.healthy}>
                  <td><strong>{n.name}</strong></td>
                  <td>{n.chain}</td>
                  <td>{n.network}</td>
                  <td>{n.backend}</td>
                  <td><StatusBadge status={n.healthy ? 'healthy' : 'down'} /></td>
                  <td className="r num">{formatInt(n.head)}</td>
                  <td className="r num">{n.lag === null ? '—' : `${n.lag} blocks`}</td>
                  <td className="r num">{formatInt(n.peers)}</td>
                  <td><StatusBadge status={syncText(n)} /></td>
                  <td className="small">
                    {n.services.length === 0
                      ? '—'
                      : n.services.map((s) => (
                          <div key={`${s.service}-${s.client}`} title={s.detail}>
                            {s.client || s.service}: <StatusBadge status={s.state} />
                            {s.pid ? <span className="muted"> pid {s.pid}</span> : null}
                          </div>
                        ))}
                  </td>
                  <td className="small">
                    {n.last_backup ? (
                      <span title={`${n.last_backup.archive} · ${formatBytes(n.last_backup.bytes)}`}>
                        {formatTime(n.last_backup.at)}
                        <br />
                        <span className="muted">{formatBytes(n.last_backup.bytes)}</span>
                      </span>
                    ) : (
                      <span className="muted">none</span>
                    )}
                  </td>
                  <td>
                    <button type="button" className="ghost small-btn" aria-expanded={open === n.name}
                      onClick={() => setOpen(open === n.name ? null : n.name)}>
                      {open === n.name ? `Hide checks of ${n.name}` : `Show checks of ${n.name}`}
                    </button>
                  </td>
                </tr>
                {open === n.name && (
                  <tr className="sub">
                    <td colSpan={12}>
                      <ul className="plain checks">
                        {n.checks.map((c, i) => (
                          <li key={i}>
                            <StatusBadge status={c.ok ? 'ok' : 'failed'} /> <strong>{c.client}</strong> {c.name}: <span className="muted">{c.detail}</span>
                          </li>
                        ))}
                        {n.checks.length === 0 && <li className="muted">no checks</li>}
                      </ul>
                    </td>
                  </tr>
                )}
              </Fragment>
            ))}
          </tbody>
        </table>
      </div>
      {nodes && nodes.items.length === 0 && <p className="muted">No managed nodes known to this engine.</p>}
      {!nodes && <p className="muted">Loading…</p>}
    </section>
  );
}
