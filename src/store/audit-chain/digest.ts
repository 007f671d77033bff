// The chain's hashes: per-row key hash and content digest (the "entries"), the batch digest over
// them, the hash chain head = sha256(prev_head ‖ batch_digest) and its HMAC.
import { createHash, createHmac, hash, timingSafeEqual } from 'node:crypto';
import { canonicalRow, rowKey } from './canonical.js';
import type { TableShape } from './shape.js';

// One-shot hashing (crypto.hash): measurably cheaper than createHash for the per-row digests.
const sha256 = (s: string) => hash('sha256', s, 'hex');

export const KEY_HASH_CHARS = 16;
export const LEAF_CHARS = 32;

export function keyHashOf(key: string): string {
  return sha256(`key\n${key}`).slice(0, KEY_HASH_CHARS);
}

/** A row's content digest (128 bits). */
export function leafOf(canonical: string): string {
  return sha256(`row\n${canonical}`).slice(0, LEAF_CHARS);
}

/** One entry per inserted row: key hash ‖ content digest, in insertion order. */
export function entryOf(shape: TableShape, row: Record<string, unknown>): { entry: string; key: string } {
  const key = rowKey(shape, row);
  return { entry: keyHashOf(key) + leafOf(canonicalRow(shape, row)), key };
}

export function batchDigest(table: string, entries: readonly string[]): string {
  const h = createHash('sha256').update(`batch\n${table}\n`);
  for (const e of entries) h.update(e).update('\n');
  return h.digest('hex');
}

export function genesisHead(table: string, chain: string): string {
  return sha256(`vigil-audit-chain\n${table}\n${chain}`);
}

/** head = sha256(prev_head ‖ batch_digest). */
export function nextHead(prevHead: string, digest: string): string {
  return sha256(prevHead + digest);
}

export function chainMac(key: Buffer, table: string, chain: string, seq: number, head: string): string {
  return createHmac('sha256', key).update(`${table}\n${chain}\n${seq}\n${head}`).digest('hex');
}

export function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
