import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { ChartData } from '../lib/pnl';

export function makePlot(node: HTMLElement, data: ChartData, width: number, height: number, colors: string[]): uPlot {
  const opts: uPlot.Options = {
    width,
    height,
    legend: { show: true },
    cursor: { drag: { x: true, y: false } },
    scales: { x: { time: true } },
    axes: [
      { stroke: '#94a3b8', grid: { stroke: 'rgba(148,163,184,0.12)' }, ticks: { stroke: 'rgba(148,163,184,0.25)' } },
      { stroke: '#94a3b8', grid: { stroke: 'rgba(148,163,184,0.12)' }, ticks: { stroke: 'rgba(148,163,184,0.25)' }, size: 70 },
    ],
    series: [
      {},
      ...data.series.map((s, i) => ({
        label: s.label,
        stroke: colors[i % colors.length],
        width: 2,
        paths: uPlot.paths.stepped?.({ align: 1 }),
        points: { show: false },
        value: (_u: uPlot, v: number | null) => (v === null ? '—' : v.toPrecision(6)),
      })),
    ],
  };
  return new uPlot(opts, [data.xs, ...data.series.map((s) => s.values)] as uPlot.AlignedData, node);
}
