// Where the vigil that owns a data directory listens: a running vigil records its admin API's
// address in <data dir>/admin.address.json (mode 0600) and removes it when it stops cleanly; the
// CLI of that data directory talks to that address, not to whatever answers on a port number (a
// second user's vigil on the default port is never asked). A record whose process is gone (a
// crash, a kill -9) is stale: it is ignored and removed.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { PRIVATE_FILE_MODE } from '../config/private-files.js';

export const SERVE_ADDRESS_FILE = 'admin.address.json';

export interface ServeAddress {
  /** The admin API's base URL (http or https, loopback or the configured host). */
  readonly url: string;
  readonly pid: number;
}

const recordSchema = z.object({
  url: z
    .string()
    .url()
    .refine((u) => /^https?:$/.test(new URL(u).protocol) && new URL(u).pathname === '/', 'an http(s) origin'),
  pid: z.number().int().positive(),
});

const fileOf = (dataDir: string) => path.join(dataDir, SERVE_ADDRESS_FILE);

/**
 * Records `url` as this process's admin address in `dataDir`; the returned function removes the
 * record if it is still this process's (a later vigil of the same directory may have replaced it).
 */
export function recordServeAddress(dataDir: string, url: string, pid = process.pid): () => void {
  const file = fileOf(dataDir);
  const tmp = `${file}.${pid}.tmp`;
  // Written whole, then renamed: a reader never sees half a record.
  writeFileSync(tmp, `${JSON.stringify({ url: new URL(url).origin, pid })}\n`, { mode: PRIVATE_FILE_MODE });
  renameSync(tmp, file);
  return () => {
    if (readRecord(file)?.pid === pid) rmSync(file, { force: true });
  };
}

/** The address of the live vigil owning `dataDir`, or undefined (none recorded, or a stale record, which is removed). */
export function readServeAddress(
  dataDir: string,
  alive: (pid: number) => boolean = isAlive,
): ServeAddress | undefined {
  const file = fileOf(dataDir);
  const record = readRecord(file);
  if (!record) return undefined;
  if (alive(record.pid)) return record;
  rmSync(file, { force: true });
  return undefined;
}

function readRecord(file: string): ServeAddress | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = recordSchema.safeParse(JSON.parse(text));
    return parsed.success ? { url: new URL(parsed.data.url).origin, pid: parsed.data.pid } : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a process with this id exists (EPERM: it does, as another user's). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
