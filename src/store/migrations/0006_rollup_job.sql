-- The rollups are filled by a background job in serve (src/store/rollup.ts)
-- rather than by materialized views, which doubled the time of every event
-- insert. The job counts events received from the watermark on; everything
-- stored before this migration was counted by the views, so the watermark
-- starts after the newest received time (or now, on an empty table).
-- "Now" is Sluice's clock ({now_ns}, given by `sluice migrate`), not the
-- engine's: received times are stamped by Sluice, and a server whose clock
-- runs ahead would put the watermark past events not yet counted.
DROP VIEW IF EXISTS logs_per_minute_mv;

DROP VIEW IF EXISTS logs_received_per_minute_mv;

INSERT INTO sluice_meta (key, value, version)
SELECT 'rollup_watermark',
       toString(greatest({now_ns:UInt64}, if(count() = 0, 0, toUnixTimestamp64Nano(max(received_at)) + 1))),
       {now_ns:UInt64}
FROM logs;
