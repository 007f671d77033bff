// The head and pending files under $VIGIL_DATA_DIR/chain: the chain head kept apart from the data
// (what anchors it), and the record of a batch whose insert is under way (settled after a crash).
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ChainPosition, ChainRecord } from './chain-record.js';
import { chainMac } from './digest.js';

export interface HeadFile extends ChainPosition {
  readonly table: string;
  readonly chain: string;
  readonly time: number;
  readonly mac: string;
}

export const chainDir = (dataDir: string) => path.join(dataDir, 'chain');
const headPath = (dataDir: string, table: string) => path.join(chainDir(dataDir), `${table}.head`);
export const pendingPath = (dataDir: string, table: string) =>
  path.join(chainDir(dataDir), `${table}.pending`);

/** Writes a file so that a reader sees the old or the new content, never a torn one. */
export function writeAtomic(file: string, content: string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  renameSync(tmp, file);
}

export function readHeadFile(dataDir: string, table: string): HeadFile | undefined {
  const file = headPath(dataDir, table);
  if (!existsSync(file)) return undefined;
  try {
    const h = JSON.parse(readFileSync(file, 'utf8')) as HeadFile;
    return typeof h.seq === 'number' && typeof h.head === 'string' ? h : undefined;
  } catch {
    return undefined;
  }
}

export function writeHeadFile(dataDir: string, key: Buffer, r: ChainRecord): void {
  const h: HeadFile = {
    table: r.tbl,
    chain: r.chain,
    seq: r.batch_seq,
    head: r.head,
    time: r.time,
    mac: chainMac(key, r.tbl, r.chain, r.batch_seq, r.head),
  };
  writeAtomic(headPath(dataDir, r.tbl), `${JSON.stringify(h)}\n`);
}

export function readPendingFile(dataDir: string, table: string): ChainRecord | undefined {
  const file = pendingPath(dataDir, table);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ChainRecord;
  } catch {
    return undefined;
  }
}
