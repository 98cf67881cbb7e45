-- Hand-written SQL that bench/query.mjs runs straight on the engine, as the
-- baseline for the same questions asked through the API. {name:Type} are
-- query parameters the script fills with the same random terms and ranges.
-- Searches select the columns of the API's event format (all twelve), as
-- the API's own query does: the baseline is the same query, so the ratio is
-- the API's overhead and not the cost of columns the baseline skipped.

-- name: word_1h
SELECT toString(id), toString(time), toString(received_at), service, host, level, severity, message, attributes, trace_id, span_id, source FROM logs
WHERE time >= {from:DateTime64(9)} AND time <= {to:DateTime64(9)} AND hasTokenCaseInsensitive(message, {word:String})
ORDER BY time DESC, id DESC LIMIT 101
SETTINGS use_query_cache = 0;

-- name: phrase_1h
SELECT toString(id), toString(time), toString(received_at), service, host, level, severity, message, attributes, trace_id, span_id, source FROM logs
WHERE time >= {from:DateTime64(9)} AND time <= {to:DateTime64(9)} AND match(message, {re:String})
ORDER BY time DESC, id DESC LIMIT 101
SETTINGS use_query_cache = 0;

-- name: field_6h
SELECT toString(id), toString(time), toString(received_at), service, host, level, severity, message, attributes, trace_id, span_id, source FROM logs
WHERE time >= {from:DateTime64(9)} AND time <= {to:DateTime64(9)} AND service = {service:String} AND toFloat64OrNull(attributes['status']) >= 500
ORDER BY time DESC, id DESC LIMIT 101
SETTINGS use_query_cache = 0;

-- name: regex_1h
SELECT toString(id), toString(time), toString(received_at), service, host, level, severity, message, attributes, trace_id, span_id, source FROM logs
WHERE time >= {from:DateTime64(9)} AND time <= {to:DateTime64(9)} AND match(message, {re:String})
ORDER BY time DESC, id DESC LIMIT 101
SETTINGS use_query_cache = 0;

-- name: trends_24h_by_level
-- The rollup up to its watermark plus the raw events received since, as the API does.
SELECT bucket, level, sum(n) AS n FROM (
  SELECT toUnixTimestamp(toStartOfInterval(minute, toIntervalSecond(300))) AS bucket, level, sum(count) AS n
  FROM logs_per_minute WHERE minute >= {rfrom:DateTime} AND minute < {rto:DateTime}
  GROUP BY bucket, level
  UNION ALL
  SELECT toUnixTimestamp(toStartOfInterval(time, toIntervalSecond(300))) AS bucket, level, count() AS n
  FROM logs WHERE time >= {from:DateTime64(9)} AND time < {to:DateTime64(9)} AND received_at >= {w:DateTime64(9)}
  GROUP BY bucket, level
) GROUP BY bucket, level
SETTINGS use_query_cache = 0;

-- name: fields_1h
SELECT k, count() AS n FROM (
  SELECT attributes FROM logs WHERE time >= {from:DateTime64(9)} AND time <= {to:DateTime64(9)} ORDER BY time DESC LIMIT 100000
) ARRAY JOIN mapKeys(attributes) AS k GROUP BY k ORDER BY n DESC, k LIMIT 500
SETTINGS use_query_cache = 0;
