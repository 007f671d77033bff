// Writes a CLI command makes to a chained table (events, findings, incidents, actions) when it
// opened the store itself because no vigil answers: through the same chained batched writer as
// `vigil serve`, on the same chain (id, key and head file under $VIGIL_DATA_DIR), so the change is
// a recorded batch of the audit trail and `vigil verify` stays intact. A bare insert into a
// chained table is exactly what verify reports as tampering.
//
// One writer per process and data directory: the embedded store's lock already makes this CLI the
// only process on it. Against a ClickHouse server, a `vigil serve` sharing this data directory
// must answer on VIGIL_ADMIN_PORT (the CLI then goes through it), or the two would both extend
// the chain from the same head.
import type { Config } from '../config/index.js';
import { errorMessage } from '../model/index.js';
import { type ChainedTable, createAuditChain } from '../store/audit-chain/index.js';
import { createBatchedWriter, type StoreClient } from '../store/index.js';
import { chainIdentity } from './wiring/secrets.js';

export async function withChainedWriter<T, R>(
  config: Config,
  client: StoreClient,
  target: { table: ChainedTable; toRow: (item: T) => Record<string, unknown> },
  fn: (write: (items: T[]) => Promise<void>) => Promise<R>,
): Promise<R> {
  const warn = (message: string) => process.stderr.write(`vigil: ${message}\n`);
  const writer = createBatchedWriter<T>({
    client,
    table: target.table,
    toRow: target.toRow,
    maxAgeMs: 0,
    onError: (err, attempt) => warn(`store insert failed (attempt ${attempt}): ${errorMessage(err)}`),
    chain: createAuditChain({
      client,
      table: target.table,
      dataDir: config.dataDir,
      ...chainIdentity(config),
      onError: (err, attempt) => warn(`audit chain append failed (attempt ${attempt}): ${errorMessage(err)}`),
      onWarning: warn,
    }),
  });
  try {
    return await fn((items) => writer.write(items));
  } finally {
    await writer.close();
  }
}
