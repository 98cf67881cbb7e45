-- Events. Day partitions so the TTL drops whole parts; ordered for the
-- common read "one service, recent time range". The TTL written here is a
-- placeholder: `sluice migrate` sets it from SLUICE_RETENTION_DAYS.
-- The deduplication window lets a retried keyed insert (Idempotency-Key as
-- insert_deduplication_token) be recognised and stored once.
CREATE TABLE IF NOT EXISTS logs
(
    id UUID,
    time DateTime64(9, 'UTC') CODEC(Delta(8), ZSTD(1)),
    received_at DateTime64(9, 'UTC') CODEC(Delta(8), ZSTD(1)),
    service LowCardinality(String),
    host LowCardinality(String),
    level LowCardinality(String),
    severity UInt8,
    message String CODEC(ZSTD(1)),
    attributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    trace_id String CODEC(ZSTD(1)),
    span_id String CODEC(ZSTD(1)),
    source LowCardinality(String),
    writer LowCardinality(String),
    INDEX message_text message TYPE text(tokenizer = splitByNonAlpha),
    INDEX received_at_minmax received_at TYPE minmax GRANULARITY 1
)
ENGINE = MergeTree
PARTITION BY toDate(time)
ORDER BY (service, time)
TTL toDateTime(time) + INTERVAL 30 DAY
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 100000;

-- Per-minute counts by service and level (event time) for trends.
CREATE TABLE IF NOT EXISTS logs_per_minute
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

CREATE MATERIALIZED VIEW IF NOT EXISTS logs_per_minute_mv TO logs_per_minute AS
SELECT toStartOfMinute(time) AS minute, service, level, count() AS count
FROM logs
GROUP BY minute, service, level;
