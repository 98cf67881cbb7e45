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
  readonly tailViewers: Gauge;
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
    tailPolls: new Counter({ name: 'sluice_tail_polls_total', help: 'Reads the live-tail store poller made', registers: [registry] }),
    tailViewers: new Gauge({ name: 'sluice_tail_viewers', help: 'Live tail viewers connected to this process', registers: [registry] }),
    requests503: new Counter({ name: 'sluice_unavailable_total', help: 'Requests answered 503 (retry later), by code', labelNames: ['code'], registers: [registry] }),
  };
}
