-- Per-source figures written by the collectors every VIGIL_SOURCE_STATS_INTERVAL (deltas, summed
-- when read): items received, mapped, dropped as not a database operation, rejected by reason, and
-- attribute keys of mapped items the mapping did not read (names only, never values). Not per
-- tenant. Read by `vigil sources`, GET /v1/sources and the pipeline-health dashboard.
-- Kept 90 days: enough to compare a source before and after a change to its instrumentation.
CREATE TABLE IF NOT EXISTS source_stats
(
    time    DateTime64(3, 'UTC') DEFAULT now64(3),
    source  LowCardinality(String),
    figure  LowCardinality(String),
    label   String,
    count   UInt64
)
ENGINE = MergeTree
ORDER BY (source, figure, time)
TTL toDateTime(time) + INTERVAL 90 DAY;
