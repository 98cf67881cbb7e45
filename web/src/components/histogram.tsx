// The search histogram: counts per step from /api/v1/trends (by level),
// drawn as stacked bars with the Chart component. Dragging across it calls
// onZoom with the selected time span. The counts it was given are also in
// a legend (totals per level) and a visually hidden table (per step), so
// screen readers and tests read the numbers rather than the pixels.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { LEVELS, type Level } from '../api';
import { dateTime, epochMs, levelClass } from '../format';
import { Chart, countAxis, cssVar, levelColor, timeAxis } from './uplot';

export interface TrendsAnswer {
  from: string;
  to: string;
  step: string;
  step_seconds: number;
  buckets: string[];
  series: Array<{ key: string; total: number; counts: number[] }>;
}

/** Epoch seconds of an RFC 3339 time with up to nanoseconds (Date.parse wants at most ms). */
export function epochSeconds(iso: string): number {
  return epochMs(iso) / 1000;
}

const bars = uPlot.paths.bars!({ size: [0.9, 40] });

// Bars are drawn in series order, so the tallest (everything up to fatal)
// goes first and each lower level paints over it: a stack without bands.
const DRAW_ORDER: readonly Level[] = [...LEVELS].reverse();

interface Prepared {
  data: uPlot.AlignedData;
  totals: Map<Level, number>;
  perBucket: Array<{ time: string; total: number }>;
  range: [number, number];
}

function prepare(t: TrendsAnswer): Prepared {
  const n = t.buckets.length;
  const byLevel = new Map(t.series.map((s) => [s.key, s.counts]));
  const cumulative: number[][] = [];
  const running = new Array<number>(n).fill(0);
  for (const level of LEVELS) {
    const counts = byLevel.get(level);
    if (counts) for (let i = 0; i < n; i++) running[i]! += counts[i] ?? 0;
    cumulative.push([...running]);
  }
  cumulative.reverse();
  // Each bar is centred on its bucket, so a drag over it selects that bucket.
  const half = t.step_seconds / 2;
  const xs = t.buckets.map((b) => epochSeconds(b) + half);
  return {
    data: [xs, ...cumulative],
    totals: new Map(LEVELS.map((l) => [l, t.series.find((s) => s.key === l)?.total ?? 0])),
    perBucket: t.buckets.map((time, i) => ({ time, total: running[i]! })).filter((b) => b.total > 0),
    range: [epochSeconds(t.from), epochSeconds(t.to)],
  };
}

function useDarkMode(): boolean {
  const [dark, setDark] = useState(() => matchMedia('(prefers-color-scheme: dark)').matches);
  useEffect(() => {
    const mq = matchMedia('(prefers-color-scheme: dark)');
    const on = () => setDark(mq.matches);
    mq.addEventListener('change', on);
    return () => mq.removeEventListener('change', on);
  }, []);
  return dark;
}

export function Histogram(props: { trends: TrendsAnswer; onZoom: (fromMs: number, toMs: number) => void; height?: number }) {
  const prepared = useMemo(() => prepare(props.trends), [props.trends]);
  // uPlot holds the options for the chart's life; these refs let its hooks
  // see the current range and callback without rebuilding the chart.
  const range = useRef(prepared.range);
  range.current = prepared.range;
  const onZoom = useRef(props.onZoom);
  onZoom.current = props.onZoom;

  const dark = useDarkMode();
  const options = useMemo<Omit<uPlot.Options, 'width' | 'height'>>(() => {
    const axis = { stroke: cssVar('--fg-2'), grid: { stroke: cssVar('--border'), width: 1 }, ticks: { stroke: cssVar('--border'), width: 1 } };
    return {
      legend: { show: false },
      cursor: { drag: { x: true, y: false, setScale: false, dist: 3 }, points: { show: false } },
      scales: {
        x: { time: true, range: () => range.current },
        y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] },
      },
      axes: [timeAxis(axis), countAxis(axis, 40)],
      series: [
        {},
        ...DRAW_ORDER.map((level) => ({
          label: level,
          stroke: levelColor(level),
          fill: levelColor(level),
          width: 0,
          points: { show: false },
          paths: bars,
        })),
      ],
      hooks: {
        setSelect: [
          (u: uPlot) => {
            const { left, width } = u.select;
            if (width < 3) return;
            const from = u.posToVal(left, 'x');
            const to = u.posToVal(left + width, 'x');
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            onZoom.current(Math.round(from * 1000), Math.round(to * 1000));
          },
        ],
      },
    };
    // Colours are read from CSS variables when the chart is made: remake it when the scheme flips.
  }, [dark]);

  const total = [...prepared.totals.values()].reduce((a, b) => a + b, 0);
  return (
    <figure class="histogram" data-total={total}>
      <Chart options={options} data={prepared.data} height={props.height ?? 110} label={`Events per ${props.trends.step} by level; drag across to zoom in`} />
      <figcaption>
        <ul class="legend" aria-label="Events by level">
          {LEVELS.filter((l) => prepared.totals.get(l)).map((l) => (
            <li key={l} data-level={l} data-count={prepared.totals.get(l)}>
              <span class={levelClass(l)}>{l}</span> {prepared.totals.get(l)}
            </li>
          ))}
        </ul>
        <span class="hint">per {props.trends.step} · drag across the chart to zoom in</span>
        <table class="visually-hidden" aria-label={`Events per ${props.trends.step}`}>
          <thead>
            <tr>
              <th scope="col">from</th>
              <th scope="col">events</th>
            </tr>
          </thead>
          <tbody>
            {prepared.perBucket.map((b) => (
              <tr key={b.time}>
                <td>{dateTime(b.time)}</td>
                <td>{b.total}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </figcaption>
    </figure>
  );
}
