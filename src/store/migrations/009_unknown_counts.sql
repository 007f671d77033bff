-- A count the source does not report (an OpenTelemetry span without a row count, a limit or a
-- size) is unknown, stored as NULL, not 0 (issue 15). Rows stored before keep their numbers.
-- The audit chain digests Nullable(UInt32) 5 as it digested UInt32 5, so earlier batches verify.
ALTER TABLE events MODIFY COLUMN IF EXISTS top_k Nullable(UInt32) CODEC(T64, ZSTD(1));
ALTER TABLE events MODIFY COLUMN IF EXISTS returned Nullable(UInt32) CODEC(T64, ZSTD(1));
ALTER TABLE events MODIFY COLUMN IF EXISTS vectors_returned Nullable(UInt32) CODEC(T64, ZSTD(1));
ALTER TABLE events MODIFY COLUMN IF EXISTS bytes_out Nullable(UInt64) CODEC(T64, ZSTD(1));

-- The rollup sums what was reported (sum() skips NULL) and counts the requests that reported
-- each figure (columns named through the table: the output aliases shadow them), so a reader
-- can tell "0 rows" from "no row count" per minute.
-- Minutes rolled up before this migration reported every figure (unknown did not exist): their
-- parts read the default, the minute's requests, so a restart's baselines keep learning from them.
ALTER TABLE events_1m ADD COLUMN IF NOT EXISTS returned_reported UInt64 DEFAULT requests;
ALTER TABLE events_1m ADD COLUMN IF NOT EXISTS vectors_reported UInt64 DEFAULT requests;
ALTER TABLE events_1m ADD COLUMN IF NOT EXISTS bytes_reported UInt64 DEFAULT requests;

DROP VIEW IF EXISTS events_1m_mv;

CREATE MATERIALIZED VIEW IF NOT EXISTS events_1m_mv TO events_1m AS
SELECT
    tenant,
    toStartOfMinute(time) AS minute,
    actor,
    collection,
    operation,
    system,
    count() AS requests,
    toUInt64(sum(ifNull(events.returned, 0))) AS returned,
    toUInt64(sum(ifNull(events.vectors_returned, 0))) AS vectors_returned,
    toUInt64(sum(ifNull(events.bytes_out, 0))) AS bytes_out,
    countIf(outcome = 'denied') AS denied,
    countIf(outcome = 'error') AS errors,
    count(events.returned) AS returned_reported,
    count(events.vectors_returned) AS vectors_reported,
    count(events.bytes_out) AS bytes_reported
FROM events
GROUP BY tenant, minute, actor, collection, operation, system;
