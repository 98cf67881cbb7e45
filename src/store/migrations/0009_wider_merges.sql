-- Wider merges of the parts ingest writes (#17). Under load an insert is a
-- part of about 8,000 rows (bench/ingest: 32 clients of 500 events, one
-- insert at a time, so about half the clients' requests in each), and
-- merging such parts five at a time rewrote every event, with its text
-- index, one level more than wider merges do. Merging at least four parts,
-- preferring eight, took serve about 1 CPU-µs an event less (bench/ingest,
-- 13.3–13.9 → 12.3–12.7 in three interleaved pairs), with searches as fast
-- (bench/query).
ALTER TABLE logs MODIFY SETTING merge_selector_base = 8, min_parts_to_merge_at_once = 4;
