/** The cumulative realised PnL series (GET /history/pnl) → aligned chart data. */
import { toBigInt, unitsToNumber } from './format';

export interface PnlPoint {
  at: string;
  cumulative: string;
  tx_hash?: string;
}

export interface PnlSeries {
  token: string;
  symbol: string;
  decimals: number;
  points: PnlPoint[];
}

export interface PnlResponse {
  series: PnlSeries[];
  gas_spent_wei: string;
  realized_usd: number | null;
  trades?: number;
}

export interface ChartData {
  /** unix seconds, ascending, unique */
  xs: number[];
  series: { label: string; token: string; values: (number | null)[] }[];
}

function seconds(at: string): number {
  return new Date(at).getTime() / 1000;
}

/**
 * One x axis for all tokens (every point's time), each series as a step function: at x its
 * value is the cumulative amount of its last point at or before x (in token units, decimals
 * applied exactly through BigInt), null before its first point.
 */
export function toChartData(series: PnlSeries[]): ChartData {
  const xsSet = new Set<number>();
  const parsed = series.map((s) => {
    const pts = s.points
      .map((p) => ({ x: seconds(p.at), v: toBigInt(p.cumulative) }))
      .filter((p): p is { x: number; v: bigint } => Number.isFinite(p.x) && p.v !== null)
      .sort((a, b) => a.x - b.x);
    for (const p of pts) xsSet.add(p.x);
    return { s, pts };
  });
  const xs = [...xsSet].sort((a, b) => a - b);
  return {
    xs,
    series: parsed.map(({ s, pts }) => {
      const values: (number | null)[] = [];
      let i = -1;
      for (const x of xs) {
        while (i + 1 < pts.length && pts[i + 1].x <= x) i += 1;
        values.push(i < 0 ? null : unitsToNumber(pts[i].v, s.decimals));
      }
      return { label: s.symbol || s.token, token: s.token, values };
    }),
  };
}

/** A mined trade streamed live, added to its token's series (the cumulative sum carried on exactly). */
export function appendProfit(
  series: PnlSeries[],
  trade: { token: string; realized_profit: string | null; tx_hash?: string | null },
  at: string,
  meta: { symbol: string; decimals: number },
): PnlSeries[] {
  const profit = toBigInt(trade.realized_profit);
  if (profit === null || !trade.token) return series;
  const key = trade.token.toLowerCase();
  let found = false;
  const next = series.map((s) => {
    if (s.token.toLowerCase() !== key) return s;
    found = true;
    if (trade.tx_hash && s.points.some((p) => p.tx_hash === trade.tx_hash)) return s;
    const last = s.points.length ? toBigInt(s.points[s.points.length - 1].cumulative) ?? 0n : 0n;
    return { ...s, points: [...s.points, { at, cumulative: (last + profit).toString(), tx_hash: trade.tx_hash ?? undefined }] };
  });
  if (!found) {
    next.push({ token: trade.token, symbol: meta.symbol, decimals: meta.decimals,
      points: [{ at, cumulative: profit.toString(), tx_hash: trade.tx_hash ?? undefined }] });
  }
  return next;
}

/** The latest cumulative amount of each series (raw units). */
export function totals(series: PnlSeries[]): { token: string; symbol: string; decimals: number; total: string }[] {
  return series.map((s) => ({ token: s.token, symbol: s.symbol, decimals: s.decimals,
    total: s.points.length ? s.points[s.points.length - 1].cumulative : '0' }));
}
