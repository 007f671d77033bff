// Batch export over a time range (`vigil export`): walks each kind's records in time order, a
// page at a time (keyset pagination: memory stays flat however large the range).
import type { StoreClient } from '../store/index.js';
import { type ExportFormat, formatLine } from './formats.js';
import type { ExportKind, ExportRecord } from './record.js';
import { countRange, type Range, readRange, START } from './store-reader.js';

export interface BatchExportOptions extends Range {
  readonly client: StoreClient;
  readonly kinds: readonly ExportKind[];
  readonly format: ExportFormat;
  /** Receives each line (without newline); awaited, so a slow output slows the export down. */
  readonly write: (line: string) => void | Promise<void>;
  /** Called once with the total, then after every page. */
  readonly onProgress?: (done: number, total: number) => void;
  /** @defaultValue 2000 */
  readonly pageSize?: number;
}

export async function exportRange(opts: BatchExportOptions): Promise<Record<ExportKind, number>> {
  const counts = { finding: 0, incident: 0, action: 0, event: 0 } satisfies Record<ExportKind, number>;
  let total = 0;
  for (const kind of opts.kinds) total += await countRange(opts.client, kind, opts);
  let done = 0;
  opts.onProgress?.(0, total);
  for (const kind of opts.kinds) {
    let cursor = START;
    for (;;) {
      const page = await readRange(opts.client, kind, opts, cursor, opts.pageSize ?? 2_000);
      for (const { record } of page) await opts.write(formatLine(opts.format, record));
      counts[kind] += page.length;
      done += page.length;
      opts.onProgress?.(done, Math.max(total, done));
      if (page.length < (opts.pageSize ?? 2_000)) break;
      cursor = page.at(-1)!.cursor;
    }
  }
  return counts;
}

/** The same over records already in memory (a running vigil's admin API answers), by time. */
export async function exportRecords(
  records: readonly ExportRecord[],
  format: ExportFormat,
  write: (line: string) => void | Promise<void>,
): Promise<number> {
  for (const r of records) await write(formatLine(format, r));
  return records.length;
}
