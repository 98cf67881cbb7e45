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
