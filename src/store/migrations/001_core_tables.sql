-- Canonical access events. ReplacingMergeTree on the ordering key (which ends in event_id) folds
-- redelivered events into one row; the writer's insert_deduplication_token drops whole repeated
-- batches at insert time. Partitioned by day so TTL drops whole parts.
CREATE TABLE IF NOT EXISTS events
(
    event_id          String,
    time              DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    observed_time     DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    stored_time       DateTime64(3, 'UTC') DEFAULT now64(3),
    tenant            LowCardinality(String),
    source            LowCardinality(String),
    actor             String,
    actor_type        LowCardinality(String),
    credential        String,
    session           String CODEC(ZSTD(1)),
    src_ip            String,
    src_net           LowCardinality(String),
    client            LowCardinality(String),
    system            LowCardinality(String),
    operation         LowCardinality(String),
    operation_raw     LowCardinality(String),
    collection        LowCardinality(String),
    namespace         LowCardinality(String),
    top_k             UInt32 CODEC(T64, ZSTD(1)),
    returned          UInt32 CODEC(T64, ZSTD(1)),
    vectors_returned  UInt32 CODEC(T64, ZSTD(1)),
    bytes_out         UInt64 CODEC(T64, ZSTD(1)),
    outcome           LowCardinality(String),
    status_code       Int32,
    error_type        LowCardinality(String),
    masked            Bool,
    review            Bool,
    blocked           Bool,
    latency_ms        Float32 CODEC(ZSTD(1)),
    query_hash        String CODEC(ZSTD(1)),
    trace_id          String CODEC(ZSTD(1)),
    span_id           String CODEC(ZSTD(1)),
    attributes        Map(LowCardinality(String), String)
)
ENGINE = ReplacingMergeTree(observed_time)
PARTITION BY toDate(time)
ORDER BY (tenant, actor, time, event_id)
SETTINGS non_replicated_deduplication_window = 1000;

-- Per-minute rollup per tenant x actor x collection x operation: dashboards and cold-start
-- baselines read this instead of raw events.
CREATE TABLE IF NOT EXISTS events_1m
(
    tenant            LowCardinality(String),
    minute            DateTime('UTC'),
    actor             String,
    collection        LowCardinality(String),
    operation         LowCardinality(String),
    system            LowCardinality(String),
    requests          UInt64,
    returned          UInt64,
    vectors_returned  UInt64,
    bytes_out         UInt64,
    denied            UInt64,
    errors            UInt64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (tenant, actor, collection, operation, system, minute);

CREATE MATERIALIZED VIEW IF NOT EXISTS events_1m_mv TO events_1m AS
SELECT
    tenant,
    toStartOfMinute(time) AS minute,
    actor,
    collection,
    operation,
    system,
    count() AS requests,
    sum(returned) AS returned,
    sum(vectors_returned) AS vectors_returned,
    sum(bytes_out) AS bytes_out,
    countIf(outcome = 'denied') AS denied,
    countIf(outcome = 'error') AS errors
FROM events
GROUP BY tenant, minute, actor, collection, operation, system;

CREATE TABLE IF NOT EXISTS findings
(
    finding_id          String,
    tenant              LowCardinality(String),
    detector            LowCardinality(String),
    entity_type         LowCardinality(String),
    entity              String,
    actor               String,
    severity            LowCardinality(String),
    score               Float64,
    confidence          Float64,
    event_time          DateTime64(3, 'UTC'),
    detected_time       DateTime64(3, 'UTC'),
    first_observed_time DateTime64(3, 'UTC'),
    stored_time         DateTime64(3, 'UTC') DEFAULT now64(3),
    title               String,
    sentence            String,
    observed            Float64,
    expected            Float64,
    band_low            Float64,
    band_high           Float64,
    baseline_period     String,
    features            Map(LowCardinality(String), Float64),
    evidence            Array(String),
    collection          LowCardinality(String),
    attack_techniques   Array(LowCardinality(String))
)
ENGINE = ReplacingMergeTree(detected_time)
PARTITION BY toYYYYMM(event_time)
ORDER BY (tenant, finding_id);

CREATE TABLE IF NOT EXISTS incidents
(
    incident_id   String,
    tenant        LowCardinality(String),
    actor         String,
    status        LowCardinality(String),
    severity      LowCardinality(String),
    risk          Float64,
    title         String,
    summary       String,
    finding_ids   Array(String),
    opened_time   DateTime64(3, 'UTC'),
    updated_time  DateTime64(3, 'UTC'),
    updated_by    String
)
ENGINE = ReplacingMergeTree(updated_time)
ORDER BY (tenant, incident_id);

-- Every attempt of every responder action.
CREATE TABLE IF NOT EXISTS actions
(
    action_id     String,
    job_id        String,
    incident_id   String,
    tenant        LowCardinality(String),
    kind          LowCardinality(String),
    target        String,
    mode          LowCardinality(String),
    attempt       UInt32,
    outcome       LowCardinality(String),
    latency_ms    Float64,
    error         String,
    time          DateTime64(3, 'UTC')
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(time)
ORDER BY (tenant, job_id, time);

-- Rows the store could not insert after isolating them (poison rows), kept for inspection.
CREATE TABLE IF NOT EXISTS dead_letters
(
    time      DateTime64(3, 'UTC') DEFAULT now64(3),
    target    LowCardinality(String),
    reason    String,
    row       String
)
ENGINE = MergeTree
ORDER BY time;
