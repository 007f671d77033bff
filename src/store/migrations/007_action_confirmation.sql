-- Whether a succeeded containment's effect was read back from the target ('confirmed') or the
-- target offers no read-back ('unconfirmable', the attempt's `error` says why). '' for every other
-- attempt and for rows written before this column (the audit chain digests '' as absent).
ALTER TABLE actions ADD COLUMN IF NOT EXISTS confirmation LowCardinality(String) DEFAULT '';
