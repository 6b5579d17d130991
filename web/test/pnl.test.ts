import { describe, expect, it } from 'vitest';
import { appendProfit, toChartData, totals, type PnlSeries } from '../src/lib/pnl';

const WETH = '0x5fbdb2315678afecb367f032d93f642f64180aa3';
const USDC = '0xcf7ed3acca5a467e9e704c703e8d87f634fb0fc9';

const series: PnlSeries[] = [
  { token: WETH, symbol: 'WETH', decimals: 18, points: [
    { at: '2026-11-22T06:00:10+00:00', cumulative: '52094578786269618' },
    { at: '2026-11-22T06:00:30+00:00', cumulative: '1000000000000000000000001' }, // 1,000,000 WETH + 1 wei
  ] },
  { token: USDC, symbol: 'USDC', decimals: 6, points: [
    { at: '2026-11-22T06:00:20Z', cumulative: '2500000' },
    { at: '2026-11-22T06:00:30Z', cumulative: '-500000' },
  ] },
];

describe('cumulative PnL series → chart data', () => {
  it('puts all tokens on one sorted time axis (unix seconds), each as a step function', () => {
    const data = toChartData(series);
    const t0 = Date.UTC(2026, 10, 22, 6, 0, 10) / 1000;
    expect(data.xs).toEqual([t0, t0 + 10, t0 + 20]);
    expect(data.series.map((s) => s.label)).toEqual(['WETH', 'USDC']);
    const [weth, usdc] = data.series;
    expect(weth.values[0]).toBeCloseTo(0.052094578786269618, 15);
    expect(weth.values[1]).toBe(weth.values[0]); // carried forward until its next point
    expect(weth.values[2]).toBeCloseTo(1_000_000, 6);
    expect(usdc.values).toEqual([null, 2.5, -0.5]); // nothing before its first point; decimals 6
  });

  it('is empty for no series, and sorts points given out of order', () => {
    expect(toChartData([])).toEqual({ xs: [], series: [] });
    const data = toChartData([{ token: WETH, symbol: 'WETH', decimals: 18, points: [
      { at: '2026-11-22T06:00:30Z', cumulative: '2000000000000000000' },
      { at: '2026-11-22T06:00:10Z', cumulative: '1000000000000000000' },
    ] }]);
    expect(data.series[0].values).toEqual([1, 2]);
  });

  it('extends a series exactly with a mined trade streamed live (BigInt sum), once per tx', () => {
    const next = appendProfit(series, { token: WETH.toUpperCase().replace('0X', '0x'), realized_profit: '9007199254740993', tx_hash: '0xabc' },
      '2026-11-22T06:01:00Z', { symbol: 'WETH', decimals: 18 });
    expect(next[0].points.at(-1)).toEqual({ at: '2026-11-22T06:01:00Z', cumulative: '1000000009007199254740994', tx_hash: '0xabc' });
    expect(series[0].points).toHaveLength(2); // not mutated
    const again = appendProfit(next, { token: WETH, realized_profit: '9007199254740993', tx_hash: '0xabc' }, '2026-11-22T06:01:01Z',
      { symbol: 'WETH', decimals: 18 });
    expect(again[0].points).toHaveLength(3);
  });

  it('starts a new series for a token not seen yet; ignores a trade without profit', () => {
    const DAI = '0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0';
    const next = appendProfit(series, { token: DAI, realized_profit: '5', tx_hash: '0x1' }, '2026-11-22T06:02:00Z', { symbol: 'DAI', decimals: 18 });
    expect(next).toHaveLength(3);
    expect(next[2]).toMatchObject({ token: DAI, symbol: 'DAI', points: [{ cumulative: '5' }] });
    expect(appendProfit(series, { token: DAI, realized_profit: null }, 'x', { symbol: 'DAI', decimals: 18 })).toBe(series);
  });

  it('totals are the last cumulative amounts', () => {
    expect(totals(series).map((t) => t.total)).toEqual(['1000000000000000000000001', '-500000']);
  });
});
