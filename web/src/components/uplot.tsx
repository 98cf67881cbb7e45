// A uPlot chart as a Preact component: created once per `options` identity,
// fed new data with setData, sized to its container, destroyed on unmount.
// Views build their own options (bars for the search histogram, lines for
// trends) and may hook uPlot's events (drag-select to zoom).
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export type { default as UPlot } from 'uplot';

/** A CSS custom property's value, so charts follow light and dark mode. */
export function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

export const LEVEL_COLORS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export function levelColor(level: string): string {
  return cssVar(`--lvl-${level}`) || cssVar('--fg-2');
}

/** Distinct colours for series that are not levels (services, hosts…). */
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
export function paletteColor(i: number): string {
  return PALETTE[i % PALETTE.length]!;
}

// Counts are whole: y ticks step by 1, 2, 5, 10, 20, 50, … (uPlot's own
// steps would label 0.2, 0.4, … under small counts).
const COUNT_STEPS = Array.from({ length: 30 }, (_, i) => [1, 2, 5][i % 3]! * 10 ** Math.floor(i / 3));

/** A y axis of event counts: whole-number ticks only. */
export function countAxis(base: uPlot.Axis, size: number): uPlot.Axis {
  return { ...base, size, incrs: COUNT_STEPS };
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** Tick labels for times in epoch seconds: 24-hour time, the date under the first and where the day changes; the date alone for steps of a day. */
function timeLabels(_u: uPlot, splits: number[], _axis: number, _space: number, incr: number): string[] {
  let day = '';
  return splits.map((s) => {
    const d = new Date(s * 1000);
    const date = `${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
    if (incr >= 86_400) return date;
    const time = `${pad2(d.getHours())}:${pad2(d.getMinutes())}${incr < 60 ? `:${pad2(d.getSeconds())}` : ''}`;
    const label = date === day ? time : `${time}\n${date}`;
    day = date;
    return label;
  });
}

/**
 * A time x axis whose labels never touch: short 24-hour labels, and more
 * room between ticks on a narrow chart (uPlot's default "8:10am" labels,
 * 50 px apart, run into each other on a phone).
 */
export function timeAxis(base: uPlot.Axis): uPlot.Axis {
  return { ...base, space: (_u, _axis, _min, _max, dim) => (dim < 500 ? 64 : 56), values: timeLabels };
}

export function Chart(props: {
  options: Omit<uPlot.Options, 'width' | 'height'>;
  data: uPlot.AlignedData;
  height: number;
  label?: string;
  onCreate?: (u: uPlot) => void;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const el = box.current!;
    const u = new uPlot({ ...props.options, width: Math.max(100, el.clientWidth), height: props.height }, props.data, el);
    plot.current = u;
    props.onCreate?.(u);
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(100, el.clientWidth), height: props.height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
    // A new chart only when the options object changes; data goes through setData.
  }, [props.options, props.height]);

  useEffect(() => {
    plot.current?.setData(props.data);
  }, [props.data]);

  return <div class="chart" ref={box} role="img" aria-label={props.label ?? 'chart'} />;
}
