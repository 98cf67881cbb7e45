// Grouping accuracy, the measure of the log-parsing literature (Zhu et al.,
// "Tools and Benchmarks for Automated Log Parsing", 2019): a line counts as
// right when the set of lines sharing its predicted group is exactly the set
// sharing its true one. Used by bench/patterns and the miner's tests.

/** The share of lines whose predicted group holds exactly the lines of their true group. */
export function groupingAccuracy(predicted: readonly unknown[], truth: readonly unknown[]): number {
  if (predicted.length !== truth.length) throw new Error('predicted and true groups differ in length');
  if (truth.length === 0) return 1;
  const predSize = new Map<unknown, number>();
  for (const p of predicted) predSize.set(p, (predSize.get(p) ?? 0) + 1);
  const byTruth = new Map<unknown, number[]>();
  truth.forEach((t, i) => {
    const list = byTruth.get(t);
    if (list) list.push(i);
    else byTruth.set(t, [i]);
  });
  let right = 0;
  for (const lines of byTruth.values()) {
    const first = predicted[lines[0]!];
    if (lines.every((i) => predicted[i] === first) && predSize.get(first) === lines.length) right += lines.length;
  }
  return right / truth.length;
}
