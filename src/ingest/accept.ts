// The ack contract shared by every drain: events are queued in the batcher
// and the caller is answered only after the insert holding them succeeded.
import { createHash } from 'node:crypto';
import type { AppContext } from '../context.js';
import type { Principal } from '../auth/tokens.js';
import { SluiceError } from '../errors.js';
import type { LogEvent } from '../model/event.js';
import { localBatch } from '../tail/hub.js';

import { parseDurationNs } from '../model/time.js';
import { eventRows } from '../store/rows.js';
import type { NormalizeContext } from './normalize.js';

const DAY_NS = parseDurationNs('1d')!;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

export function normalizeContext(ctx: AppContext, defaults: { service?: string | undefined; host?: string | undefined }): NormalizeContext {
  const receivedNs = ctx.clock.nowNs();
  return {
    receivedNs,
    defaultService: defaults.service || 'unknown',
    defaultHost: defaults.host || '',
    maxAttributes: ctx.config.limits.maxAttributes,
    // An hour of slack keeps events away from the TTL's edge.
    oldestNs: receivedNs - BigInt(ctx.config.retentionDays) * DAY_NS + DAY_NS / 24n,
    newestNs: receivedNs + DAY_NS,
  };
}

/** Checks an Idempotency-Key and turns it into a dedup token scoped to the sender. */
export function dedupToken(principal: Principal, key: string | undefined): string | undefined {
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) throw new SluiceError('SLUICE_ERR_INVALID_IDEMPOTENCY_KEY');
  // Hashing scopes the key to the token that sent it (two senders may pick
  // the same key) and leaves only hex for the statement's SETTINGS clause.
  return createHash('sha256').update(principal.name).update('\n').update(key).digest('hex');
}

/** Refuses new writes while free disk is below SLUICE_MIN_FREE_DISK. (A stopping process refuses requests in app.ts's onRequest hook.) */
export function checkWritable(ctx: AppContext): void {
  if (ctx.disk.low) throw new SluiceError('SLUICE_ERR_DISK_FULL', undefined, { retryAfter: 30 });
  // Refused before the body is read: a full batcher must not also fill
  // memory with bodies waiting to be refused.
  if (ctx.batcher.bytes >= ctx.config.batch.budgetBytes) throw new SluiceError('SLUICE_ERR_OVERLOADED', undefined, { retryAfter: 1 });
}

/** Stores events; resolves once they are in the store. */
export async function storeEvents(ctx: AppContext, principal: Principal, events: readonly LogEvent[], key: string | undefined): Promise<void> {
  if (events.length === 0) return;
  const wait = ctx.rateLimiter.take(principal.name, events.length, ctx.clock.nowMs());
  if (wait > 0) throw new SluiceError('SLUICE_ERR_RATE_LIMITED', undefined, { retryAfter: wait });
  const rows = eventRows(events, principal.name, ctx.writerId);
  // Until the insert is done, the rollup job must not count past these
  // events' received time (they would be visible too late to be counted).
  let oldest = events[0]!.receivedNs;
  for (const e of events) if (e.receivedNs < oldest) oldest = e.receivedNs;
  const release = ctx.rollup.hold(oldest);
  try {
    await ctx.batcher.submit(rows, events.length, dedupToken(principal, key));
  } finally {
    release();
  }
  ctx.metrics.accepted.inc({ source: principal.name }, events.length);
  // Only now, after the insert succeeded: a viewer never sees an event that
  // was then lost.
  if (ctx.hub.size > 0) ctx.hub.publish(localBatch(events, principal.name));
}


