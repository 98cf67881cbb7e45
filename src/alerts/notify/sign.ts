// Webhook signatures: HMAC-SHA256 over `${timestamp}.${body}` with the
// target's secret, sent as X-Sluice-Signature: v1=<hex> with
// X-Sluice-Timestamp: <unix seconds>. Receivers recompute it and reject old
// timestamps (docs/alerts.md has the recipe).
import { createHmac, timingSafeEqual } from 'node:crypto';

export function sign(secret: string, timestamp: number, body: string): string {
  return 'v1=' + createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** What a receiver does; used by the tests as a receiver would. */
export function verify(secret: string, timestamp: string, body: string, signature: string, now = Date.now(), toleranceS = 300): boolean {
  const ts = Number(timestamp);
  if (!Number.isInteger(ts) || Math.abs(now / 1000 - ts) > toleranceS) return false;
  const want = Buffer.from(sign(secret, ts, body));
  const got = Buffer.from(signature);
  return want.length === got.length && timingSafeEqual(want, got);
}
