-- API tokens, stored as SHA-256 hashes. A changeable record: each change is a
-- new row with a higher version, read with FINAL.
CREATE TABLE IF NOT EXISTS tokens
(
    name String,
    scope LowCardinality(String),
    hash String,
    created_at DateTime64(3, 'UTC'),
    revoked UInt8,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY name;

-- Small key/value facts about the schema, e.g. the retention the TTLs use.
CREATE TABLE IF NOT EXISTS sluice_meta
(
    key String,
    value String,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY key;
