// Benchmark settings: BENCH_<NAME> in the environment, or --<name>=value on
// the command line (lower case, `-` for `_`), so `BENCH_KEYED_TOTAL=200_000`
// and `--keyed-total=200000` say the same.

/** A number setting (not negative; `_` may group digits). */
export function option(name, fallback) {
  const flag = `--${name.toLowerCase().replace(/_/g, '-')}=`;
  const arg = process.argv.find((a) => a.startsWith(flag));
  const raw = arg !== undefined ? arg.slice(flag.length) : process.env[`BENCH_${name}`];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isFinite(n) || n < 0) throw new Error(`BENCH_${name}=${raw}: expected a number`);
  return n;
}

/** A yes/no setting: 0 is no, any other number yes. */
export const flag = (name, fallback) => option(name, fallback ? 1 : 0) !== 0;
