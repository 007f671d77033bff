-- The re-identification vault: written only when VIGIL_VAULT_ENABLED; values are AES-256-GCM
-- ciphertexts under the vault key, never plain text.
CREATE TABLE IF NOT EXISTS vault
(
    token         String,
    tenant        LowCardinality(String),
    kind          LowCardinality(String),
    key_version   UInt16,
    sealed        String,
    created_time  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(created_time)
ORDER BY (token);

-- Every privileged call (re-identification, approvals, containment undo): who, what, why, result.
CREATE TABLE IF NOT EXISTS admin_audit
(
    time      DateTime64(3, 'UTC') DEFAULT now64(3),
    caller    String,
    action    LowCardinality(String),
    target    String,
    reason    String,
    outcome   LowCardinality(String)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(time)
ORDER BY (time, action);
