-- Export checkpoints: per SIEM sink and record kind, the cursor (store time + id) of the last record
-- the sink acknowledged. A restarted sink resumes after it; the latest saved row wins.
CREATE TABLE IF NOT EXISTS export_checkpoints
(
    sink          LowCardinality(String),
    kind          LowCardinality(String),
    last_time     DateTime64(3, 'UTC'),
    last_id       String,
    exported      UInt64,
    saved_time    DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(saved_time)
ORDER BY (sink, kind);
