import { exactUnits, formatUnits, shortHash } from '../lib/format';
import { tokenMeta } from '../lib/tokens';

/** A raw token amount with its token's decimals and symbol; the exact value in the title. */
export function Amount({ raw, token, signed }: { raw: string | null | undefined; token: string; signed?: boolean }) {
  if (raw === null || raw === undefined) return <span className="muted">—</span>;
  const meta = tokenMeta(token);
  const text = formatUnits(raw, meta.decimals);
  const negative = text.startsWith('-');
  const cls = signed ? (negative ? 'neg' : text === '0' ? '' : 'pos') : '';
  return (
    <span className={`num ${cls}`} title={`${exactUnits(raw, meta.decimals)} ${meta.symbol}${meta.known ? '' : ' (18 decimals assumed)'} — raw ${raw}`}>
      {text} <span className="sym">{meta.symbol}</span>
    </span>
  );
}

export const EXPLORER_KEY = 'mevops.explorer';

export function explorerTemplate(): string {
  try {
    return localStorage.getItem(EXPLORER_KEY) ?? '';
  } catch {
    return '';
  }
}

/** The explorer URL of a tx ("https://x/tx/{hash}", "{chain}" optional), or null when none is set or it is not http(s). */
export function explorerUrl(template: string, hash: string, chain = ''): string | null {
  if (!template || !hash || !/^https?:\/\//i.test(template)) return null;
  const url = template.includes('{hash}') ? template.replaceAll('{hash}', hash) : `${template.replace(/\/+$/, '')}/${hash}`;
  return url.replaceAll('{chain}', encodeURIComponent(chain));
}

export function TxHash({ hash, chain, full }: { hash: string | null | undefined; chain?: string; full?: boolean }) {
  if (!hash) return <span className="muted">—</span>;
  const text = full ? hash : shortHash(hash, 10, 6);
  const url = explorerUrl(explorerTemplate(), hash, chain);
  if (url) {
    return (
      <a className="mono" href={url} target="_blank" rel="noreferrer noopener" title={hash} onClick={(ev) => ev.stopPropagation()}>
        {text}
      </a>
    );
  }
  return <span className="mono" title={hash}>{text}</span>;
}

export function StatusBadge({ status }: { status: string | null | undefined }) {
  const s = status || 'unknown';
  const tone = ['mined', 'landed', 'active', 'ok', 'paper', 'closed', 'healthy', 'running', 'synced', 'on'].includes(s)
    ? 'good'
    : ['reverted', 'dropped', 'refused', 'simulated_fail', 'open', 'failed', 'error', 'critical', 'down'].includes(s)
      ? 'bad'
      : ['sent', 'signed', 'found', 'half_open', 'half-open', 'testing', 'warning', 'syncing'].includes(s)
        ? 'warn'
        : 'neutral';
  return <span className={`badge ${tone}`}>{s.replaceAll('_', ' ')}</span>;
}

export function Meter({ label, ratioUsed, text }: { label: string; ratioUsed: number; text: string }) {
  const used = Math.max(0, Math.min(1, Number.isFinite(ratioUsed) ? ratioUsed : 0));
  const tone = used >= 0.9 ? 'bad' : used >= 0.6 ? 'warn' : 'good';
  return (
    <div className="meter-row">
      <div className="meter-label">
        <span>{label}</span>
        <span className="num">{text}</span>
      </div>
      <div className="meter" role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={100}
        aria-valuenow={Math.round(used * 100)} aria-valuetext={text}>
        <div className={`meter-fill ${tone}`} style={{ width: `${used * 100}%` }} />
      </div>
    </div>
  );
}

export function ErrorNote({ error }: { error: string | null }) {
  if (!error) return null;
  return <p className="error" role="alert">{error}</p>;
}
