// The chain checked against itself, the HMAC key and the head file, one record at a time.
import type { ChainRecord } from './chain-record.js';
import { batchDigest, chainMac, genesisHead, nextHead, sameHex } from './digest.js';
import type { HeadFile } from './head-file.js';
import type { Problem } from './problem.js';

/** Checks a chain's records (sorted by seq) against each other, the HMAC key and the head file. */
export function checkChain(
  table: string,
  chain: string,
  records: readonly ChainRecord[],
  opts: { key?: Buffer; head?: HeadFile },
): Problem[] {
  const checker = createChainChecker(table, chain, opts);
  for (const r of records) checker.add(r);
  return checker.finish();
}

export interface ChainChecker {
  /** The next record, in batch_seq order (records with equal seq next to each other). */
  add(record: ChainRecord): void;
  /** The problems found, the head file compared with the last record. */
  finish(): Problem[];
}

/**
 * The chain checked one record at a time: only the previous record is kept, so a chain of any
 * length is checked in constant memory as `verifyAuditTrail` pages through it.
 */
export function createChainChecker(
  table: string,
  chain: string,
  opts: { key?: Buffer; head?: HeadFile },
): ChainChecker {
  const problems: Problem[] = [];
  let prev: ChainRecord | undefined;
  let any = false;
  return {
    add(r) {
      any = true;
      if (prev && r.batch_seq === prev.batch_seq) {
        problems.push({
          table,
          kind: 'chain-broken',
          batch: r.batch_seq,
          detail: `two records claim batch ${r.batch_seq}`,
        });
        return;
      }
      const expectedPrev = prev ? prev.head : r.batch_seq === 1 ? genesisHead(table, chain) : undefined;
      if (prev && r.batch_seq !== prev.batch_seq + 1)
        problems.push({
          table,
          kind: 'chain-broken',
          batch: prev.batch_seq + 1,
          detail: `batches ${prev.batch_seq + 1}..${r.batch_seq - 1} are missing from the chain`,
        });
      else if (!prev && r.batch_seq !== 1)
        problems.push({
          table,
          kind: 'chain-broken',
          batch: 1,
          detail: `batches 1..${r.batch_seq - 1} are missing from the chain`,
        });
      if (expectedPrev !== undefined && r.prev_head !== expectedPrev)
        problems.push({
          table,
          kind: 'chain-broken',
          batch: r.batch_seq,
          detail: 'does not follow the previous head',
        });
      if (
        batchDigest(table, r.entries) !== r.batch_digest ||
        nextHead(r.prev_head, r.batch_digest) !== r.head ||
        r.row_count !== r.entries.length
      )
        problems.push({
          table,
          kind: 'record-modified',
          batch: r.batch_seq,
          detail: 'chain record does not hash to its head',
        });
      if (opts.key && !sameHex(r.mac, chainMac(opts.key, table, chain, r.batch_seq, r.head)))
        problems.push({
          table,
          kind: 'mac-invalid',
          batch: r.batch_seq,
          detail: 'HMAC does not match (record forged or rewritten)',
        });
      // Only what the next record and the head file are checked against: not the entries.
      prev = { ...r, entries: [] };
    },
    finish() {
      const head = opts.head;
      if (!head) {
        if (any)
          problems.push({
            table,
            kind: 'head-missing',
            detail: 'no head file: the chain cannot be anchored',
          });
        return problems;
      }
      if (opts.key && !sameHex(String(head.mac ?? ''), chainMac(opts.key, table, chain, head.seq, head.head)))
        problems.push({
          table,
          kind: 'mac-invalid',
          batch: head.seq,
          detail: 'the head file HMAC does not match (head file edited)',
        });
      const last = prev;
      if (!last || last.batch_seq < head.seq)
        problems.push({
          table,
          kind: 'head-mismatch',
          batch: head.seq,
          detail: `the head file is at batch ${head.seq}, the store's chain ends at ${last?.batch_seq ?? 0} (records deleted)`,
        });
      else if (last.batch_seq > head.seq)
        problems.push({
          table,
          kind: 'head-mismatch',
          batch: head.seq + 1,
          detail: `the store's chain goes on past the head file (batch ${head.seq}) to ${last.batch_seq}`,
        });
      else if (last.head !== head.head)
        problems.push({
          table,
          kind: 'head-mismatch',
          batch: head.seq,
          detail: 'the chain head differs from the head file',
        });
      return problems;
    },
  };
}
