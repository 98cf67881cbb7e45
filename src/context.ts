// What the plugins share: built once by buildApp and passed to each plugin.
import type { Config } from './config.js';
import type { Clock } from './model/clock.js';
import type { TokenRegistry } from './auth/tokens.js';
import type { Batcher } from './ingest/batcher.js';
import type { IngestPipeline } from './ingest/pipeline.js';
import type { RateLimiter } from './ingest/rate-limit.js';
import type { DiskMonitor } from './ops/disk.js';
import type { Metrics } from './ops/metrics.js';
import type { Store } from './store/store.js';
import type { Hub } from './tail/hub.js';
import type { Rollup } from './store/rollup.js';
import type { AlertEngine } from './alerts/engine.js';

export interface AppContext {
  readonly config: Config;
  /** The process's one clock (src/model/clock.ts). */
  readonly clock: Clock;
  readonly store: Store;
  readonly tokens: TokenRegistry;
  readonly batcher: Batcher;
  /** The one path every drain stores events through. */
  readonly pipeline: IngestPipeline;
  readonly metrics: Metrics;
  readonly rateLimiter: RateLimiter;
  readonly disk: DiskMonitor;
  /** The per-minute rollups' background job and watermark. */
  readonly rollup: Rollup;
  /** Live tail viewers of this process. */
  readonly hub: Hub;
  /** Id of this process, written with every row it stores. */
  readonly writerId: string;
  /** The rule evaluator, in the process with the `alerts` role. */
  alerts: AlertEngine | undefined;
  /** Set when a shutdown has begun. */
  closing: boolean;
  /** Why the schema is not usable, or undefined. */
  schemaProblem(): string | undefined;
}
