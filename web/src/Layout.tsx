import { useEffect, type ComponentType } from 'react';
import { useLive } from './live';
import { PAGES, useHashRoute, type PageId } from './route';
import { useSession } from './session';
import { Overview } from './pages/Overview';
import { Opportunities } from './pages/Opportunities';
import { Trades } from './pages/Trades';
import { Strategies } from './pages/Strategies';
import { Risk } from './pages/Risk';
import { Nodes } from './pages/Nodes';

const VIEWS: Record<PageId, ComponentType> = {
  overview: Overview,
  opportunities: Opportunities,
  trades: Trades,
  strategies: Strategies,
  risk: Risk,
  nodes: Nodes,
};

export function Layout() {
  const page = useHashRoute();
  const { role, who, logout } = useSession();
  const { connection, status } = useLive();
  const View = VIEWS[page];
  const label = PAGES.find((p) => p.id === page)?.label ?? '';

  useEffect(() => {
    document.title = `${label} · mevops`;
  }, [label]);

  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">
          <span className="logo" aria-hidden="true">◆</span> mevops
          {status && (
            <span className="engine-id muted">
              {status.engine} · {status.chain} · {status.mode}
            </span>
          )}
        </div>
        <div className="session">
          {status?.emergency_stop && (
            <a className="stop-chip" href="#/risk" title={status.emergency_stop}>
              emergency stop
            </a>
          )}
          <span className={`conn ${connection}`} data-testid="connection" role="status" aria-label={`streams: ${connection}`}>
            {connection}
          </span>
          <span className="who" title={who}>
            <span className="muted">role</span> <strong data-testid="role">{role}</strong>
          </span>
          <button type="button" className="ghost" onClick={() => logout()}>
            Log out
          </button>
        </div>
      </header>
      <nav aria-label="Main" className="mainnav">
        {PAGES.map((p) => (
          <a key={p.id} href={`#/${p.id}`} aria-current={p.id === page ? 'page' : undefined}>
            {p.label}
          </a>
        ))}
      </nav>
      <main className="content" id="main">
        <h1 className="page-title">{label}</h1>
        <View key={page} />
      </main>
    </div>
  );
}
