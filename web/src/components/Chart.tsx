import { useEffect, useRef, useState } from 'react';
import type { ChartData } from '../lib/pnl';

const COLORS = ['#38bdf8', '#a78bfa', '#34d399', '#fbbf24', '#f87171', '#f472b6'];

/** A line chart (uPlot, loaded on demand) of aligned series over unix-second x values. */
export function LineChart({ data, label, height = 220 }: { data: ChartData; label: string; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    const node = box.current;
    if (!node || data.xs.length === 0) return;
    let disposed = false;
    let plot: { destroy(): void; setSize(s: { width: number; height: number }): void } | null = null;
    let observer: ResizeObserver | null = null;
    import('./uplot')
      .then(({ makePlot }) => {
        if (disposed) return;
        const width = Math.max(240, node.clientWidth);
        plot = makePlot(node, data, width, height, COLORS);
        if (typeof ResizeObserver !== 'undefined') {
          observer = new ResizeObserver(() => plot?.setSize({ width: Math.max(240, node.clientWidth), height }));
          observer.observe(node);
        }
      })
      .catch(() => setFailed(true));
    return () => {
      disposed = true;
      observer?.disconnect();
      plot?.destroy();
    };
  }, [data, height]);

  if (data.xs.length === 0) return <p className="muted">No realised profit yet.</p>;
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
