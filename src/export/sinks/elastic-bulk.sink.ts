// Elasticsearch `_bulk`: NDJSON of `create` action + ECS document pairs. The document id is the
// record version's uid, so a redelivered record is answered 409 (already there) and counts as
// delivered: at-least-once delivery, exactly-once documents. The answer is checked item by item:
// 429/5xx items are re-sent, other failed items (mapping errors) are rejected.
import { toEcs } from '../ecs.mapper.js';
import { type ExportRecord, recordUid } from '../record.js';
import type { ExportSink, RejectedRecord, SendResult } from '../sink.js';
import { httpPost } from './http.js';

export interface ElasticBulkSinkOptions {
  /** Cluster URL (`https://es:9200`). */
  readonly url: string;
  /** Target index (or data stream); `{kind}` is replaced by the record kind. @defaultValue 'vigil-{kind}' */
  readonly index?: string;
  /** `Authorization: ApiKey <apiKey>` (the base64 id:key form Elasticsearch issues). */
  readonly apiKey?: string;
  readonly username?: string;
  readonly password?: string;
  /** @defaultValue 'elastic' */
  readonly name?: string;
  /** @defaultValue 30000 */
  readonly timeoutMs?: number;
}

interface BulkItemResult {
  status: number;
  error?: { type?: string; reason?: string };
}

interface BulkAnswer {
  errors?: boolean;
  items?: Array<Record<string, BulkItemResult>>;
}

export function createElasticBulkSink(opts: ElasticBulkSinkOptions): ExportSink {
  const endpoint = `${opts.url.replace(/\/+$/, '')}/_bulk`;
  const indexFor = (r: ExportRecord) => (opts.index ?? 'vigil-{kind}').replace('{kind}', r.kind);
  const auth: Record<string, string> = opts.apiKey
    ? { authorization: `ApiKey ${opts.apiKey}` }
    : opts.username
      ? {
          authorization: `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}`,
        }
      : {};
  return {
    name: opts.name ?? 'elastic',
    async send(records: readonly ExportRecord[]): Promise<SendResult> {
      const lines: string[] = [];
      for (const r of records) {
        lines.push(JSON.stringify({ create: { _index: indexFor(r), _id: recordUid(r) } }));
        lines.push(JSON.stringify(toEcs(r)));
      }
      const answer = await httpPost({
        url: endpoint,
        // The bulk body must end with a newline.
        body: `${lines.join('\n')}\n`,
        headers: { ...auth, 'content-type': 'application/x-ndjson' },
        timeoutMs: opts.timeoutMs ?? 30_000,
        what: 'Elasticsearch _bulk',
      });
      const parsed = JSON.parse(answer.text) as BulkAnswer;
      if (!parsed.errors) return { retry: [], rejected: [] };
      return sortItems(records, parsed.items ?? []);
    },
    async close() {},
  };
}

/** Splits a `_bulk` answer with errors into records to re-send and records refused for good. */
export function sortItems(
  records: readonly ExportRecord[],
  items: Array<Record<string, BulkItemResult>>,
): SendResult {
  const retry: ExportRecord[] = [];
  const rejected: RejectedRecord[] = [];
  for (const [i, record] of records.entries()) {
    const item = items[i] ? Object.values(items[i]!)[0] : undefined;
    // No answer for an item: the safe reading is "not stored".
    if (!item) retry.push(record);
    // 409 on `create`: the document exists already, i.e. this is a redelivery.
    else if ((item.status >= 200 && item.status < 300) || item.status === 409) continue;
    else if (item.status === 429 || item.status >= 500) retry.push(record);
    else
      rejected.push({
        record,
        reason: `Elasticsearch refused the document (${item.status} ${item.error?.type ?? ''}: ${item.error?.reason ?? ''})`,
      });
  }
  return { retry, rejected };
}
