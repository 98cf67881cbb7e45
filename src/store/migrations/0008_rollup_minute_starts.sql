-- Events exactly on a minute's first nanosecond, per rollup row. A Loki
-- window (t − range, t] on whole minutes is its minutes [t − range, t) plus
-- the events at exactly t, less those at exactly t − range; the rollup
-- readers took those two edges from the raw events, a scan of every event
-- in the range (80 ms of a 7-day query on 10M events). With this column
-- they come from the rollup (src/loki/logql/rollup.ts).
-- SummingMergeTree sums every numeric column outside the sorting key, so
-- rows for the same minute add up as `count` does.
ALTER TABLE logs_per_minute ADD COLUMN IF NOT EXISTS at_start UInt64 DEFAULT 0;

-- What the rollup already holds (every event received before the
-- watermark) gets its minute starts as extra rows with a count of 0,
-- which the table sums into the existing ones. Once: a rerun (the client
-- gave up on a long scan that the server finished, a crash before
-- sluice_schema recorded this migration) finds at_start filled and adds
-- nothing. Every serve must be stopped before this migration: one of an
-- older version keeps counting chunks without at_start, and the job of
-- this version cannot count them again (the chunk's dedup token is taken).
INSERT INTO logs_per_minute (minute, service, level, count, at_start)
SELECT toStartOfMinute(time) AS minute, service, level, 0, count()
FROM logs
WHERE received_at < fromUnixTimestamp64Nano(toInt64((SELECT argMax(value, version) FROM sluice_meta WHERE key = 'rollup_watermark')), 'UTC')
  AND toUnixTimestamp64Nano(time) % 60000000000 = 0
  AND (SELECT sum(at_start) FROM logs_per_minute) = 0
GROUP BY minute, service, level;
