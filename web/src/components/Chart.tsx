import { useEffect, useRef, useState } from 'react';
import type { ChartData } from '../lib/pnl';

const COLORS = ['#38bdf8', '#a78bfa', '#34d399', '#fbbf24', '#f87171', '#f472b6'];

interface Plot {
  destroy(): void;
  setSize(s: { width: number; height: number }): void;
  setData(data: (number | null)[][]): void;
}

const aligned = (data: ChartData) => [data.xs, ...data.series.map((s) => s.values)];
const shape = (data: ChartData) => data.series.map((s) => s.label).join('\u0000');

/** A line chart (uPlot, loaded on demand) of aligned series over unix-second x values. New data
 * for the same series updates the plot in place; other series rebuild it. */
export function LineChart({ data, label, height = 220 }: { data: ChartData; label: string; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<{ plot: Plot; shape: string } | null>(null);
  const latest = useRef(data);
  latest.current = data;
  const [failed, setFailed] = useState(false);
  const empty = data.xs.length === 0;
  const key = shape(data);

  useEffect(() => {
    const node = box.current;
    if (!node || empty) return;
    let disposed = false;
    let observer: ResizeObserver | null = null;
    import('./uplot')
      .then(({ makePlot }) => {
        if (disposed) return;
        const p = makePlot(node, latest.current, Math.max(240, node.clientWidth), height, COLORS) as unknown as Plot;
        plot.current = { plot: p, shape: key };
        if (typeof ResizeObserver !== 'undefined') {
          observer = new ResizeObserver(() => p.setSize({ width: Math.max(240, node.clientWidth), height }));
          observer.observe(node);
        }
      })
      .catch(() => setFailed(true));
    return () => {
      disposed = true;
      observer?.disconnect();
      plot.current?.plot.destroy();
      plot.current = null;
    };
  }, [key, empty, height]);

  useEffect(() => {
    if (plot.current && plot.current.shape === key) plot.current.plot.setData(aligned(data));
  }, [data, key]);

  if (empty) return <p className="muted">No realised profit yet.</p>;
  return (
    <figure className="chart" aria-label={label}>
      <div ref={box} className="chart-box" role="img" aria-label={`${label}: ${data.series.map((s) => {
        const last = [...s.values].reverse().find((v) => v !== null);
        return `${s.label} ${last ?? 0}`;
      }).join(', ')}`} />
      {failed && <p className="muted">The chart could not be drawn.</p>}
    </figure>
  );
}
