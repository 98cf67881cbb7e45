// Prometheus metrics, one registry per app so tests and several apps in one
// process never share counters.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  readonly accepted: Counter<'source'>;
  readonly rejected: Counter<'code'>;
  readonly insertSeconds: Histogram<'ok'>;
  readonly insertRows: Histogram;
  readonly batcherBytes: Gauge;
  readonly rollupWatermark: Gauge;
  readonly requests503: Counter<'code'>;
  readonly tailPolls: Counter;
  readonly alertEvaluations: Counter;
  readonly alertEvaluationFailures: Counter;
  readonly alertTickSeconds: Histogram<'phase'>;
  readonly alertDeliveries: Counter<'result'>;
  readonly diskFreeBytes: Gauge;
  readonly diskMinFreeBytes: Gauge;
  readonly tailViewers: Gauge;
}

/** Starts each label value at 0, so a first failure is an increase Prometheus sees. */
function zeroed<L extends string>(c: Counter<L>, label: L, values: readonly string[]): Counter<L> {
  for (const v of values) c.inc({ [label]: v } as Partial<Record<L, string>>, 0);
  return c;
}

export function createMetrics(withDefaults = true): Metrics {
  const registry = new Registry();
  if (withDefaults) collectDefaultMetrics({ register: registry, prefix: 'sluice_' });
  return {
    registry,
    accepted: new Counter({ name: 'sluice_events_accepted_total', help: 'Events stored and acknowledged', labelNames: ['source'], registers: [registry] }),
    rejected: new Counter({ name: 'sluice_events_rejected_total', help: 'Events refused, by error code', labelNames: ['code'], registers: [registry] }),
    insertSeconds: new Histogram({
      name: 'sluice_insert_duration_seconds',
      help: 'Time one insert into the store took',
      labelNames: ['ok'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    insertRows: new Histogram({
      name: 'sluice_insert_rows',
      help: 'Rows per insert the batcher made',
      buckets: [1, 10, 100, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000],
      registers: [registry],
    }),
    batcherBytes: new Gauge({ name: 'sluice_batcher_bytes', help: 'Bytes queued or being inserted by the batcher', registers: [registry] }),
    rollupWatermark: new Gauge({
      name: 'sluice_rollup_watermark_seconds',
      help: 'Received time (Unix seconds) before which every event is counted in the per-minute rollups; readers count later ones from raw events',
      registers: [registry],
    }),
    alertEvaluations: new Counter({ name: 'sluice_alert_evaluations_total', help: 'Alert rule evaluations run', registers: [registry] }),
    alertEvaluationFailures: new Counter({ name: 'sluice_alert_evaluation_failures_total', help: 'Alert rule evaluations that failed (the rules API shows each rule\'s last error)', registers: [registry] }),
    alertTickSeconds: new Histogram({
      name: 'sluice_alert_tick_duration_seconds',
      help: 'Time one scheduler tick with due rules spent, by phase: counting (the one scan of raw events the short-window rules share) and states (per rule: its own count if not in that scan, evaluating, storing changed states)',
      labelNames: ['phase'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
      registers: [registry],
    }),
    alertDeliveries: zeroed(
      new Counter({ name: 'sluice_alert_deliveries_total', help: 'Notices (webhooks, Alertmanager pushes) delivered or given up after their retries', labelNames: ['result'], registers: [registry] }),
      'result',
      ['delivered', 'failed'],
    ),
    diskFreeBytes: new Gauge({ name: 'sluice_disk_free_bytes', help: 'Free bytes in the data directory (+Inf with a ClickHouse server, which guards its own disk)', registers: [registry] }),
    diskMinFreeBytes: new Gauge({ name: 'sluice_disk_min_free_bytes', help: 'SLUICE_MIN_FREE_DISK: below it ingest answers 503', registers: [registry] }),
    tailPolls: new Counter({ name: 'sluice_tail_polls_total', help: 'Reads the live-tail store poller made', registers: [registry] }),
    tailViewers: new Gauge({ name: 'sluice_tail_viewers', help: 'Live tail viewers connected to this process', registers: [registry] }),
    requests503: new Counter({ name: 'sluice_unavailable_total', help: 'Requests answered 503 (retry later), by code', labelNames: ['code'], registers: [registry] }),
  };
}
