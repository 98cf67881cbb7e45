// Versions for ReplacingMergeTree records: nanoseconds since the epoch, made
// strictly increasing within a process so two quick changes keep their order.
import { nowNs } from '../model/time.js';

let last = 0n;

export function nextVersion(): string {
  let v = nowNs();
  if (v <= last) v = last + 1n;
  last = v;
  return v.toString();
}
