-- Pattern templates by id (src/patterns/registry.ts), so that
-- `pattern:<id>` finds its events in every serve process and after a
-- restart. A row is written the first time a process lists the pattern.
CREATE TABLE IF NOT EXISTS patterns
(
    id String,
    template String,
    seen_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(seen_at)
ORDER BY id;
