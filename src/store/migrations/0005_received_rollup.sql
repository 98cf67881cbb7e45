-- Per-minute counts by service and level keyed by *received* minute, for
-- alert windows (which count by received time so late events still count;
-- the trend rollup is by event time and cannot answer them).
CREATE TABLE IF NOT EXISTS logs_received_per_minute
(
    minute DateTime('UTC'),
    service LowCardinality(String),
    level LowCardinality(String),
    count UInt64
)
ENGINE = SummingMergeTree
PARTITION BY toDate(minute)
ORDER BY (service, level, minute)
TTL minute + INTERVAL 30 DAY
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 100000;

CREATE MATERIALIZED VIEW IF NOT EXISTS logs_received_per_minute_mv TO logs_received_per_minute AS
SELECT toStartOfMinute(received_at) AS minute, service, level, count() AS count
FROM logs
GROUP BY minute, service, level;
