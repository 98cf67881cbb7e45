-- Saved searches: a changeable record, one row version per change, read
-- with FINAL.
CREATE TABLE IF NOT EXISTS saved_searches
(
    id UUID,
    name String,
    q String,
    range_from String,
    range_to String,
    owner String,
    created_at DateTime64(3, 'UTC'),
    updated_at DateTime64(3, 'UTC'),
    deleted UInt8,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id;
