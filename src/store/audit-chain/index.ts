// Tamper-evident audit trail. Every batch the store writer inserts into a chained table (events,
// findings, incidents, actions) gets a record in `audit_chain`: per row a key hash and a content
// digest (the "entries"), the batch digest over them, and a hash chain
// head = sha256(prev_head ‖ batch_digest), HMAC'd with a key that lives on the vigil host only.
// The chain head is also kept apart from the data, in $VIGIL_DATA_DIR/chain/<table>.head.
//
// Threat model: someone who can write to ClickHouse but not to the vigil host can change, delete or
// add rows (and chain records), but cannot recompute a valid HMAC nor move the head file, so
// `verifyAuditTrail` names the batch they touched. Someone who owns the vigil host owns the key and
// is out of scope (SECURITY.md).
//
// Verification is by key, not by physical row: ReplacingMergeTree folds rows with the same sorting
// key (a redelivered event, a finding re-issued with higher numbers), so an older batch may lose
// its rows to a newer one. The rules, per sorting key k with recorded entries L(k):
//   - every stored row (every version, no FINAL) must match an entry of L(k): otherwise "modified";
//   - the latest recorded entry of k must still be stored: otherwise "deleted" (or rolled back);
//   - a stored row whose key no batch recorded is "inserted";
//   - tables that do not fold (plain MergeTree) must hold exactly the recorded multiset.
// A batch is recorded only once its insert returned, and the insert token is a digest of the
// batch's content: a redelivered batch that ClickHouse drops as a duplicate has the same content
// as the stored one, so it can never look like tampering. A crash between the insert and the
// chain record is closed by a pending file written before the insert and settled at the next start.
//
// One concern a file: shape.ts (what a table looks like), canonical.ts and digest.ts (row content
// and hashes), seal.ts (the next record), head-file.ts (head and pending files), append.ts (the
// writer's chain), read-pages.ts (reading the store in pages), check-chain.ts (links, HMAC, head),
// tally.ts (rows against entries), spill.ts and verify.ts (the whole trail, memory bounded),
// report-text.ts (the CLI's text).
export { createAuditChain, type AuditChain, type AuditChainOptions } from './append.js';
export { canonicalRow, canonicalValue, rowKey, wellFormed } from './canonical.js';
export {
  CHAIN_TABLE,
  CHAINED_TABLES,
  type ChainedTable,
  type ChainPosition,
  type ChainRecord,
} from './chain-record.js';
export { type ChainChecker, checkChain, createChainChecker } from './check-chain.js';
export { batchDigest, chainMac, entryOf, genesisHead, nextHead } from './digest.js';
export { chainDir, type HeadFile, readHeadFile, readPendingFile } from './head-file.js';
export type { Problem, ProblemKind } from './problem.js';
export { DEFAULT_PAGE_ROWS } from './read-pages.js';
export { formatVerifyReport } from './report-text.js';
export {
  type RowSealer,
  type SealedRows,
  sealBatch,
  sealHere,
  sealRecord,
  sealRows,
  sealRowsSteps,
} from './seal.js';
export { createSealWorker, type SealWorker } from './seal-worker.js';
export { type ColumnSpec, type TableShape, tableShape } from './shape.js';
export {
  addTally,
  type BatchInfo,
  type CheckRowsOptions,
  checkRows,
  emptyTally,
  type RecordedBatch,
  type RowTally,
  rowProblems,
  type StoredRowEntry,
  tallyRows,
} from './tally.js';
export { type TableReport, type VerifyOptions, type VerifyReport, verifyAuditTrail } from './verify.js';
