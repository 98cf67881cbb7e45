// What the alert engine tests share: events stored "now" by a test's
// ManualClock, and moving that clock to evaluate what is due.
import type { FastifyBaseLogger } from 'fastify';
import { AlertEngine } from '../../src/alerts/engine.js';
import { ManualClock } from '../../src/model/clock.js';
import type { LogEvent } from '../../src/model/event.js';
import { uuidv7 } from '../../src/model/id.js';
import { LEVEL_SEVERITY, type Level } from '../../src/model/levels.js';
import { eventRows } from '../../src/store/rows.js';
import { Receiver } from './receiver.js';
import { startServer, type TestServer } from './server.js';

export const quiet = { warn() {}, error() {}, info() {}, debug() {} } as unknown as FastifyBaseLogger;

export interface AlertRig {
  readonly s: TestServer;
  readonly receiver: Receiver;
  readonly engine: AlertEngine;
  readonly clock: ManualClock;
  close(): Promise<void>;
}

/**
 * A server on a ManualClock whose alert engine the test ticks by hand (no
 * `alerts` role: its own loop is not started), a webhook receiver on
 * loopback it may post to, and retries that wait milliseconds.
 */
export async function startAlertRig(): Promise<AlertRig> {
  const clock = new ManualClock();
  const receiver = await new Receiver().start();
  const s = await startServer({ SLUICE_WEBHOOK_ALLOW: '127.0.0.1', SLUICE_ROLES: 'api,ingest' }, { clock });
  const engine = new AlertEngine(s.ctx, quiet, { baseDelayMs: 5 });
  s.ctx.alerts = engine;
  await engine.load();
  return {
    s, receiver, engine, clock,
    async close() {
      await engine.stop();
      await s.close();
      await receiver.close();
    },
  };
}

/** Stores events received now, by the clock, straight into the store. */
export async function storeNow(s: TestServer, clock: ManualClock, rows: ReadonlyArray<{ service: string; level?: Level; msg: string }>): Promise<void> {
  const ns = clock.nowNs();
  const events = rows.map((r): LogEvent => ({
    id: uuidv7(clock.nowMs()), timeNs: ns, receivedNs: ns, service: r.service, host: 'h', level: r.level ?? 'info',
    severity: LEVEL_SEVERITY[r.level ?? 'info'], message: r.msg, attributes: {}, traceId: '', spanId: '',
  }));
  await s.store.insertEvents(eventRows(events, 'test', s.ctx.writerId));
}

/** Moves the clock by `ms` and evaluates what is due then; resolves when every notice it sent has been delivered or given up. */
export async function advanceEngine(clock: ManualClock, engine: AlertEngine, ms: number): Promise<void> {
  clock.advance(ms);
  await engine.tick();
  await engine.idle();
}
