/** Number formatting. Token amounts are raw integer strings (they exceed 2**53): BigInt only. */

const GROUP = /\B(?=(\d{3})+(?!\d))/g;

function group(digits: string): string {
  return digits.replace(GROUP, ',');
}

/** Parse an integer string ("123", "-5", "0x1f") into a BigInt; null when it is not one. */
export function toBigInt(raw: string | number | bigint | null | undefined): bigint | null {
  if (raw === null || raw === undefined) return null;
  if (typeof raw === 'bigint') return raw;
  if (typeof raw === 'number') return Number.isSafeInteger(raw) ? BigInt(raw) : null;
  const text = raw.trim();
  if (!/^-?\d+$/.test(text) && !/^0x[0-9a-fA-F]+$/.test(text)) return null;
  try {
    return BigInt(text);
  } catch {
    return null;
  }
}

/**
 * `raw` (integer units) as a decimal with `decimals` places, rounded half away from zero to
 * `maxFraction` digits, trailing zeros dropped, thousands grouped: formatUnits("1234500000000000000000", 18) → "1,234.5".
 * A non-zero amount that rounds to zero shows as "<0.000001" (or "-<0.000001").
 */
export function formatUnits(raw: string | bigint | null | undefined, decimals: number, maxFraction = 6): string {
  const value = toBigInt(raw ?? null);
  if (value === null) return raw === null || raw === undefined ? '—' : String(raw);
  if (!Number.isInteger(decimals) || decimals < 0) decimals = 0;
  const negative = value < 0n;
  let abs = negative ? -value : value;
  const keep = Math.min(maxFraction, decimals);
  const drop = decimals - keep;
  if (drop > 0) {
    const unit = 10n ** BigInt(drop);
    const rounded = (abs + unit / 2n) / unit;
    if (rounded === 0n && abs !== 0n) {
      return `${negative ? '-' : ''}<0.${'0'.repeat(Math.max(0, keep - 1))}1`;
    }
    abs = rounded;
  }
  const base = 10n ** BigInt(keep);
  const whole = abs / base;
  let fraction = keep > 0 ? (abs % base).toString().padStart(keep, '0') : '';
  fraction = fraction.replace(/0+$/, '');
  const text = group(whole.toString()) + (fraction ? `.${fraction}` : '');
  return negative && abs !== 0n ? `-${text}` : text;
}

/** The exact decimal (no rounding, no grouping): for titles and copy. */
export function exactUnits(raw: string | bigint | null | undefined, decimals: number): string {
  const value = toBigInt(raw ?? null);
  if (value === null) return raw === null || raw === undefined ? '' : String(raw);
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = decimals > 0 ? digits.slice(digits.length - decimals).replace(/0+$/, '') : '';
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

/** Integer units → a float for charts (exact to the float's precision: no 2**53 overflow on the way). */
export function unitsToNumber(raw: string | bigint, decimals: number): number {
  const value = toBigInt(raw);
  if (value === null) return NaN;
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const base = 10n ** BigInt(decimals);
  const n = Number(abs / base) + Number(abs % base) / Number(base);
  return negative ? -n : n;
}

export function formatEth(wei: string | bigint | null | undefined, maxFraction = 6): string {
  if (wei === null || wei === undefined) return '—';
  return `${formatUnits(wei, 18, maxFraction)} ETH`;
}

export function formatGwei(wei: string | bigint | null | undefined): string {
  if (wei === null || wei === undefined) return '—';
  return `${formatUnits(wei, 9, 3)} gwei`;
}

export function formatInt(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return group(Math.trunc(n).toString());
}

export function formatUsd(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  const negative = n < 0;
  const [whole, fraction] = Math.abs(n).toFixed(2).split('.');
  return `${negative ? '-' : ''}$${group(whole)}.${fraction}`;
}

export function shortHash(hash: string | null | undefined, head = 6, tail = 4): string {
  if (!hash) return '—';
  return hash.length > head + tail + 1 ? `${hash.slice(0, head)}…${hash.slice(-tail)}` : hash;
}

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  let s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${s}s`;
  return `${s}s`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** A unix time (s) or ISO string as local "YYYY-MM-DD HH:MM:SS". */
export function formatTime(at: number | string | null | undefined): string {
  if (at === null || at === undefined || at === '') return '—';
  const d = typeof at === 'number' ? new Date(at * 1000) : new Date(at);
  if (Number.isNaN(d.getTime())) return String(at);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function formatAgo(at: number | string | null | undefined, now = Date.now()): string {
  if (at === null || at === undefined) return '—';
  const t = typeof at === 'number' ? at * 1000 : new Date(at).getTime();
  if (Number.isNaN(t)) return '—';
  return `${formatDuration((now - t) / 1000)} ago`;
}

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}
