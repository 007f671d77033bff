// Bucket files on disk for verification: lines sorted by key hash so that each bucket can be
// compared on its own, keeping memory bounded whatever the size of the store.
import { appendFile, chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';

/** What is buffered for the spill files before they are appended to. */
const SPILL_BUFFER_CHARS = 4 << 20;

/**
 * Lines sorted into bucket files by key hash, so each bucket (every recorded entry and stored row
 * of its keys) can be compared on its own. Bucket files hold key hashes, digests and sorting keys
 * (tokens and times): nothing the store does not already hold.
 */
export interface Spill {
  readonly buckets: number;
  add(bucket: number, line: string): Promise<void>;
  /** Every line of a bucket (after `flush`). */
  lines(bucket: number): Promise<string[]>;
  flush(): Promise<void>;
  remove(): Promise<void>;
}

/** Spill files go under the data directory: the store's disk, not a /tmp that may be in memory. */
export async function createSpill(dataDir: string, buckets: number, name: string): Promise<Spill> {
  const root = path.join(dataDir, 'tmp');
  await mkdir(root, { recursive: true, mode: 0o700 });
  const dir = await mkdtemp(path.join(root, 'verify-'));
  await chmod(dir, 0o700);
  const file = (b: number) => path.join(dir, `${name}-${b}`);
  let pending: string[][] = Array.from({ length: buckets }, () => []);
  let buffered = 0;
  const flush = async () => {
    const out = pending;
    pending = Array.from({ length: buckets }, () => []);
    buffered = 0;
    for (const [b, lines] of out.entries())
      if (lines.length) await appendFile(file(b), `${lines.join('\n')}\n`, { mode: 0o600 });
  };
  return {
    buckets,
    async add(bucket, line) {
      pending[bucket]!.push(line);
      buffered += line.length;
      if (buffered >= SPILL_BUFFER_CHARS) await flush();
    },
    async lines(bucket) {
      const text = await readFile(file(bucket), 'utf8').catch(() => '');
      return text ? text.slice(0, -1).split('\n') : [];
    },
    flush,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A key hash's bucket: its first 8 hex digits are uniform. */
export const bucketOf = (entry: string, buckets: number) =>
  buckets === 1 ? 0 : Number.parseInt(entry.slice(0, 8), 16) % buckets;
