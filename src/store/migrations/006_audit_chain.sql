-- Tamper-evident audit trail (src/store/audit-chain.ts). One row per stored batch of events,
-- findings, incidents or actions: the key hash and content digest of every row it inserted, the
-- batch digest, and the hash chain head = sha256(prev_head || batch_digest), with an HMAC under a
-- key kept on the vigil host (never in ClickHouse). Plain MergeTree on purpose: a second record
-- under the same sequence number is itself evidence, it must never be folded away.
CREATE TABLE IF NOT EXISTS audit_chain
(
    tbl           LowCardinality(String),
    chain         LowCardinality(String),
    batch_seq     UInt64,
    time          DateTime64(3, 'UTC'),
    row_count     UInt32,
    first_key     String,
    last_key      String,
    min_time      DateTime64(3, 'UTC'),
    max_time      DateTime64(3, 'UTC'),
    entries       Array(String) CODEC(ZSTD(3)),
    batch_digest  String,
    prev_head     String,
    head          String,
    mac           String
)
ENGINE = MergeTree
ORDER BY (tbl, chain, batch_seq)
SETTINGS non_replicated_deduplication_window = 1000;

-- The writer's insert token is a digest of the batch's content: a retried or redelivered batch
-- with the same rows is dropped at insert (as events already were), so a table never holds two
-- physical copies of one recorded batch.
ALTER TABLE findings MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE incidents MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE actions MODIFY SETTING non_replicated_deduplication_window = 1000
