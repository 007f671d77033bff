// The chain's record: one row of `audit_chain` per stored batch of a chained table, and its
// conversion to and from the row ClickHouse stores.
import { chTime } from '../client.js';

export const CHAIN_TABLE = 'audit_chain';
/** The tables whose every stored batch is chained. */
export const CHAINED_TABLES = ['events', 'findings', 'incidents', 'actions'] as const;
export type ChainedTable = (typeof CHAINED_TABLES)[number];

export interface ChainRecord {
  readonly tbl: string;
  readonly chain: string;
  readonly batch_seq: number;
  /** Epoch ms when the record was made (after the insert returned). */
  readonly time: number;
  readonly row_count: number;
  readonly first_key: string;
  readonly last_key: string;
  readonly min_time: number;
  readonly max_time: number;
  readonly entries: readonly string[];
  readonly batch_digest: string;
  readonly prev_head: string;
  readonly head: string;
  readonly mac: string;
}

export interface ChainPosition {
  readonly seq: number;
  readonly head: string;
}

export function recordRow(r: ChainRecord): Record<string, unknown> {
  return { ...r, time: chTime(r.time), min_time: chTime(r.min_time), max_time: chTime(r.max_time) };
}

const epochMs = (v: unknown) => Date.parse(`${String(v).replace(' ', 'T')}Z`);

export function recordFromRow(r: Record<string, unknown>): ChainRecord {
  return {
    tbl: String(r.tbl),
    chain: String(r.chain),
    batch_seq: Number(r.batch_seq),
    time: epochMs(r.time),
    row_count: Number(r.row_count),
    first_key: String(r.first_key),
    last_key: String(r.last_key),
    min_time: epochMs(r.min_time),
    max_time: epochMs(r.max_time),
    entries: (r.entries as string[] | undefined) ?? [],
    batch_digest: String(r.batch_digest),
    prev_head: String(r.prev_head),
    head: String(r.head),
    mac: String(r.mac),
  };
}
