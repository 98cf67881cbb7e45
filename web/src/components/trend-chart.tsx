// The trends chart: one line per group from /api/v1/trends (levels in their
// level colours), with the totals per group in a real table beside it. The
// table is what screen readers and tests read; hovering the chart adds the
// count at the cursor's step to it.
import { useEffect, useMemo, useState } from 'preact/hooks';
import type uPlot from 'uplot';
import { LEVELS } from '../api';
import { dateTime, epochMs } from '../format';
import { Chart, countAxis, cssVar, levelColor, paletteColor, timeAxis } from './uplot';

export interface TrendSeries {
  key: string;
  total: number;
  counts: number[];
}

export interface TrendsAnswer {
  from: string;
  to: string;
  step: string;
  step_seconds: number;
  by: string;
  source: 'rollup' | 'raw';
  buckets: string[];
  series: TrendSeries[];
}

/** Epoch seconds of an RFC 3339 time with up to nanoseconds (Date.parse wants at most ms). */
function epochSeconds(iso: string): number {
  return epochMs(iso) / 1000;
}

export const groupLabel = (key: string): string => (key === '' ? '(empty)' : key);

function colorOf(by: string, key: string, i: number): string {
  if (by === 'level' && (LEVELS as readonly string[]).includes(key)) return levelColor(key);
  if (key === '(other)') return cssVar('--fg-2');
  return paletteColor(i);
}

/** Colours are read from CSS variables once per chart: rebuild it when the system theme flips. */
function useDarkMode(): boolean {
  const query = useMemo(() => matchMedia('(prefers-color-scheme: dark)'), []);
  const [dark, setDark] = useState(query.matches);
  useEffect(() => {
    const on = () => setDark(query.matches);
    query.addEventListener('change', on);
    return () => query.removeEventListener('change', on);
  }, [query]);
  return dark;
}

export function TrendChart(props: { trends: TrendsAnswer; height?: number }) {
  const t = props.trends;
  const dark = useDarkMode();
  const [cursor, setCursor] = useState<number | null>(null);
  const keys = t.series.map((s) => s.key).join('\u0000');
  const colors = useMemo(() => t.series.map((s, i) => colorOf(t.by, s.key, i)), [keys, t.by, dark]);

  // A new uPlot only when the groups (its series) or the theme change; new
  // counts for the same groups go through setData.
  const options = useMemo<Omit<uPlot.Options, 'width' | 'height'>>(() => {
    const axis = { stroke: cssVar('--fg-2'), grid: { stroke: cssVar('--border'), width: 1 }, ticks: { stroke: cssVar('--border'), width: 1 } };
    return {
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { show: true } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] } },
      axes: [timeAxis(axis), countAxis(axis, 48)],
      series: [{}, ...t.series.map((s, i) => ({ label: groupLabel(s.key), stroke: colors[i]!, width: 1.5, points: { show: false } }))],
      hooks: { setCursor: [(u: uPlot) => setCursor(u.cursor.idx ?? null)] },
    };
  }, [keys, colors]);

  const data = useMemo<uPlot.AlignedData>(() => [t.buckets.map(epochSeconds), ...t.series.map((s) => s.counts)], [t]);
  const sum = t.series.reduce((a, s) => a + s.total, 0);
  const at = cursor !== null && cursor < t.buckets.length ? t.buckets[cursor]! : null;

  return (
    <div class="trend-chart">
      <Chart options={options} data={data} height={props.height ?? 280} label={`Events per ${t.step} by ${t.by}; totals in the table`} />
      <table class="trend-totals" aria-label={`Totals by ${t.by}`}>
        <thead>
          <tr>
            <th scope="col">{t.by}</th>
            <th scope="col" class="num">
              total
            </th>
            {at && (
              <th scope="col" class="num">
                at {dateTime(at).slice(11, 16)}
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {t.series.map((s, i) => (
            <tr key={s.key}>
              <th scope="row">
                {/* A style object is set through the CSSOM, which the CSP allows (a style attribute it would not). */}
                <span class="swatch" aria-hidden="true" style={{ background: colors[i] }} />
                {groupLabel(s.key)}
              </th>
              <td class="num total">{s.total.toLocaleString()}</td>
              {at && <td class="num">{(s.counts[cursor!] ?? 0).toLocaleString()}</td>}
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row">all</th>
            <td class="num">{sum.toLocaleString()}</td>
            {at && <td class="num">{t.series.reduce((a, s) => a + (s.counts[cursor!] ?? 0), 0).toLocaleString()}</td>}
          </tr>
        </tfoot>
      </table>
    </div>
  );
}
