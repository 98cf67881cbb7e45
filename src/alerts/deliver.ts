// Sends one notification to one target: signed, retried with exponential
// backoff and jitter on 5xx, 429 and network errors (not on other 4xx),
// every attempt recorded. The notification id travels as a header so a
// receiver can drop repeats of a notice it already has.
import { setTimeout as wait } from 'node:timers/promises';
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../model/clock.js';
import type { Store } from '../store/store.js';
import { recordAttempt } from './records.js';
import type { Target } from './rule.js';
import { type Allow, postWebhook, type TlsFiles, WebhookAddressError } from './notify/safe-http.js';
import { sign } from './notify/sign.js';

export interface DeliveryOptions {
  readonly allow: Allow;
  readonly timeoutMs: number;
  readonly attempts: number;
  readonly baseDelayMs: number;
  /** Set when the process stops: no more retries. */
  readonly signal?: AbortSignal;
  /** Stamps the signature's timestamp and the history (the app's clock). */
  readonly clock: Clock;
  /** Told once per delivery how it ended (a metric). */
  readonly onOutcome?: (delivered: boolean) => void;
}

export interface Delivery {
  readonly ruleId: string;
  readonly ruleName: string;
  readonly groupKey: string;
  readonly kind: string;
  readonly notificationId: string;
  /** An empty secret sends no signature (Alertmanager). */
  readonly target: Target;
  readonly payload: unknown;
  /** More headers (Alertmanager's auth). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly tls?: TlsFiles;
}

// A wait that ends early when the process stops. The timers/promises form
// removes its abort listener when the wait ends; a listener added by hand
// stayed on the engine's one signal after every retry, and they piled up.
const sleep = (ms: number, signal?: AbortSignal) => wait(ms, undefined, { signal }).catch(() => undefined);

export async function deliver(store: Store, log: FastifyBaseLogger, d: Delivery, opts: DeliveryOptions): Promise<boolean> {
  const ok = await attempts(store, log, d, opts);
  opts.onOutcome?.(ok);
  return ok;
}

async function attempts(store: Store, log: FastifyBaseLogger, d: Delivery, opts: DeliveryOptions): Promise<boolean> {
  const body = JSON.stringify(d.payload);
  for (let attempt = 1; attempt <= opts.attempts; attempt++) {
    const sentAt = opts.clock.nowMs();
    const ts = Math.floor(sentAt / 1000);
    let status = 0;
    let error = '';
    let response = '';
    let retry: boolean;
    try {
      const res = await postWebhook(
        d.target.url,
        body,
        {
          ...(d.target.secret ? { 'x-sluice-timestamp': String(ts), 'x-sluice-signature': sign(d.target.secret, ts, body) } : {}),
          'x-sluice-notification-id': d.notificationId,
          'idempotency-key': d.notificationId,
          ...d.headers,
        },
        { allow: opts.allow, timeoutMs: opts.timeoutMs, ...(d.tls ? { tls: d.tls } : {}) },
      );
      status = res.status;
      response = res.body;
      retry = status === 429 || status >= 500;
    } catch (e) {
      error = (e as Error).message;
      retry = !(e instanceof WebhookAddressError);
    }
    const ok = status >= 200 && status < 300;
    await recordAttempt(store, sentAt, {
      rule_id: d.ruleId, rule_name: d.ruleName, group_key: d.groupKey, kind: d.kind, notification_id: d.notificationId,
      target: d.target.url, attempt, status, ok, error, response,
    }).catch((err: unknown) => log.warn({ err }, 'alerts: could not record a delivery attempt'));
    if (ok) return true;
    if (!retry || attempt === opts.attempts || opts.signal?.aborted) {
      log.warn({ rule: d.ruleName, target: d.target.url, status, error }, 'alerts: webhook not delivered');
      return false;
    }
    const backoff = opts.baseDelayMs * 2 ** (attempt - 1);
    await sleep(backoff / 2 + Math.random() * backoff, opts.signal);
    if (opts.signal?.aborted) return false;
  }
  return false;
}
