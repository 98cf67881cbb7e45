// The summaries the benchmarks quote.

/** The middle value (the mean of the two middle ones for an even count) of the finite numbers in xs; NaN if none. */
export function median(xs) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const h = Math.floor(s.length / 2);
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** The nearest-rank percentile p (0 to 1) of xs, no interpolation (p = 0.5 is the upper middle of an even count); NaN if xs is empty. */
export function percentile(xs, p) {
  return xs.length === 0 ? NaN : [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
}
