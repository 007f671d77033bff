-- Detector state checkpoints: one row per detector × entity, the latest version wins. A restarted
-- or rebalanced detector resumes from here instead of learning from scratch.
CREATE TABLE IF NOT EXISTS detector_state
(
    detector      LowCardinality(String),
    entity_key    String,
    state         String CODEC(ZSTD(3)),
    saved_time    DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(saved_time)
ORDER BY (detector, entity_key);
