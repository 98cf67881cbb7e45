// Swaps a test server's rollup job for one on a fine grid (so a test can
// count up to "now" without waiting for a 10 s boundary), optionally from a
// watermark the test picks (for fixtures with received times in the past).
import { Rollup, WATERMARK_KEY } from '../../src/store/rollup.js';
import { writeMeta } from '../../src/store/meta.js';
import type { TestServer } from './server.js';

const quiet = { warn() {}, error() {}, info() {}, debug() {} } as never;

export async function fineRollup(s: TestServer, fromNs?: bigint): Promise<Rollup> {
  await s.ctx.rollup.stop();
  if (fromNs !== undefined) await writeMeta(s.store, WATERMARK_KEY, String(fromNs));
  const rollup = new Rollup(s.store, quiet, { gridMs: 1, lagMs: 0, maxChunks: 1e9 });
  await rollup.watermark();
  Object.assign(s.ctx, { rollup });
  return rollup;
}
