// What the alert engine tests share: events stored "now" by a test's
// ManualClock, and moving that clock to evaluate what is due.
import type { AlertEngine } from '../../src/alerts/engine.js';
import type { ManualClock } from '../../src/model/clock.js';
import type { LogEvent } from '../../src/model/event.js';
import { uuidv7 } from '../../src/model/id.js';
import { LEVEL_SEVERITY, type Level } from '../../src/model/levels.js';
import { eventRows } from '../../src/store/rows.js';
import type { TestServer } from './server.js';

/** Stores events received now, by the clock, straight into the store. */
export async function storeNow(s: TestServer, clock: ManualClock, rows: ReadonlyArray<{ service: string; level?: Level; msg: string }>): Promise<void> {
  const ns = clock.nowNs();
  const events = rows.map((r): LogEvent => ({
    id: uuidv7(clock.nowMs()), timeNs: ns, receivedNs: ns, service: r.service, host: 'h', level: r.level ?? 'info',
    severity: LEVEL_SEVERITY[r.level ?? 'info'], message: r.msg, attributes: {}, traceId: '', spanId: '',
  }));
  await s.store.insertRows('logs', eventRows(events, 'test', s.ctx.writerId));
}

/** Moves the clock by `ms` and evaluates what is due then; resolves when every notice it sent has been delivered or given up. */
export async function advanceEngine(clock: ManualClock, engine: AlertEngine, ms: number): Promise<void> {
  clock.advance(ms);
  await engine.tick();
  await engine.idle();
}
