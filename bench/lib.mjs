// The harness every benchmark in bench/ uses, one import away. Each part
// lives in a small module of bench/lib/:
//   serve     `sluice serve` as a child process: migrate, start, stop
//   command   commands run to their end; a benchmark's own child modes
//   http      requests, the closed loop of keep-alive clients, /metrics
//   proc      CPU and memory of processes and threads, from /proc
//   chdb      the engine opened directly: raw baselines and row counts
//   inputs    the seeded PRNG and the loghub sample lines
//   stats     medians and percentiles
//   report    the machine, the commit, section openings and tables, docs/BENCHMARKS.md
//   options   BENCH_* settings
export { CLI, ROOT, dist } from './lib/paths.mjs';
export { flag, option } from './lib/options.mjs';
export { freePort, migrate, serveEnv, startServe, stopServe } from './lib/serve.mjs';
export { run, runBenchmark, runChild } from './lib/command.mjs';
export { ingestNdjson, request, scrapeMetrics, sendAll, sumMetric } from './lib/http.mjs';
export { CLK_TCK, MAIN_THREAD, cpuMeter, machineBusy, parseStat, processCpu, sampleMax, statusBytes, threadCpu, threadDelta } from './lib/proc.mjs';
export { ROLLUP_COUNT, SERVER_INSERT_SETTINGS, countStored, insertEventRows, openChdb, queryOne, requestContext } from './lib/chdb.mjs';
export { BODY_SERVICES, LOGHUB, loghubLines, loghubStructured, loghubSystems, ndjsonBodies, prng } from './lib/inputs.mjs';
export { median, percentile } from './lib/stats.mjs';
export { gitRev, intro, machine, machineDetail, row, stamp, table, writeSection } from './lib/report.mjs';
