-- Alert rules (the whole rule as JSON, secrets included: Sluice signs with
-- them), one row version per change, read with FINAL.
CREATE TABLE IF NOT EXISTS alert_rules
(
    id UUID,
    spec String,
    created_at DateTime64(3, 'UTC'),
    updated_at DateTime64(3, 'UTC'),
    deleted UInt8,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id;

-- State per rule and group, so a restart neither fires again nor misses a
-- resolve.
CREATE TABLE IF NOT EXISTS alert_states
(
    rule_id UUID,
    group_key String,
    state LowCardinality(String),
    since DateTime64(3, 'UTC'),
    value Float64,
    last_notified DateTime64(3, 'UTC'),
    episode String,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (rule_id, group_key);

-- Every delivery attempt of every notification.
CREATE TABLE IF NOT EXISTS alert_history
(
    time DateTime64(3, 'UTC'),
    rule_id UUID,
    rule_name String,
    group_key String,
    kind LowCardinality(String),
    notification_id String,
    target String,
    attempt UInt8,
    status UInt16,
    ok UInt8,
    error String,
    response String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(time)
ORDER BY (rule_id, time)
TTL toDateTime(time) + INTERVAL 90 DAY;
