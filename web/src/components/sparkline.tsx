// Counts per step as a row of bars in an inline SVG: no canvas and no chart
// library for a thing 120 px wide, drawn with attributes only (the CSP
// allows no style attributes) and coloured from CSS through currentColor,
// so it follows light and dark mode. Bars rather than a line: a pattern
// seen in two steps of sixty is two bars, not a slope between them.
const HEIGHT = 20;
// A step with any events stays visible beside a loud one.
const MIN_BAR = 1.5;

export function Sparkline(props: { counts: readonly number[]; label: string; class?: string }) {
  const n = Math.max(1, props.counts.length);
  const max = Math.max(1, ...props.counts);
  let d = '';
  props.counts.forEach((c, i) => {
    if (c <= 0) return;
    const h = Math.max(MIN_BAR, (c / max) * HEIGHT);
    d += `M${i + 0.1} ${HEIGHT}V${(HEIGHT - h).toFixed(2)}h0.8V${HEIGHT}Z`;
  });
  return (
    <svg class={props.class ? `spark ${props.class}` : 'spark'} viewBox={`0 0 ${n} ${HEIGHT}`} preserveAspectRatio="none" role="img" aria-label={props.label}>
      <line class="spark-base" x1={0} y1={HEIGHT - 0.5} x2={n} y2={HEIGHT - 0.5} />
      {d && <path class="spark-bars" d={d} />}
    </svg>
  );
}
