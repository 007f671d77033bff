// OCSF JSON to a file (one object per line, appended and flushed to disk before a batch counts as
// delivered) or to an HTTP endpoint (a JSON array per batch, e.g. a security data lake collector).
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { toOcsf } from '../ocsf.mapper.js';
import type { ExportRecord } from '../record.js';
import { DELIVERED, type ExportSink, RetryLaterError, type SendResult } from '../sink.js';
import { httpPost } from './http.js';

export function createOcsfFileSink(opts: { path: string; name?: string }): ExportSink {
  return {
    name: opts.name ?? 'ocsf-file',
    async send(records: readonly ExportRecord[]): Promise<SendResult> {
      const text = records.map((r) => `${JSON.stringify(toOcsf(r))}\n`).join('');
      try {
        // Owner-only when vigil creates it; a file the operator made (for a shipper) keeps its mode.
        await mkdir(path.dirname(opts.path), { recursive: true, mode: 0o700 });
        const fh = await open(opts.path, 'a', 0o600);
        try {
          await fh.write(text);
          // Durable before the checkpoint moves past it.
          await fh.datasync();
        } finally {
          await fh.close();
        }
      } catch (err) {
        throw new RetryLaterError(`OCSF file ${opts.path}: ${(err as Error).message}`);
      }
      return DELIVERED;
    },
    async close() {},
  };
}

export interface OcsfHttpSinkOptions {
  readonly url: string;
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string;
  readonly headers?: Record<string, string>;
  /** @defaultValue 'ocsf-http' */
  readonly name?: string;
  /** @defaultValue 10000 */
  readonly timeoutMs?: number;
}

export function createOcsfHttpSink(opts: OcsfHttpSinkOptions): ExportSink {
  return {
    name: opts.name ?? 'ocsf-http',
    async send(records: readonly ExportRecord[]): Promise<SendResult> {
      await httpPost({
        url: opts.url,
        headers: {
          'content-type': 'application/json',
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
          ...opts.headers,
        },
        body: JSON.stringify(records.map((r) => toOcsf(r))),
        timeoutMs: opts.timeoutMs ?? 10_000,
        what: `OCSF endpoint ${new URL(opts.url).host}`,
      });
      return DELIVERED;
    },
    async close() {},
  };
}
