-- Suppressed findings stay stored, with the reason; analysts' feedback on findings.
ALTER TABLE findings ADD COLUMN IF NOT EXISTS suppressed String DEFAULT '';

CREATE TABLE IF NOT EXISTS finding_feedback
(
    finding_id  String,
    tenant      LowCardinality(String),
    detector    LowCardinality(String),
    entity      String,
    label       LowCardinality(String),
    observed    Float64,
    caller      String,
    time        DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (tenant, detector, entity, time);
