// Vault rows and the admin audit trail in ClickHouse.
import type { VaultRow } from '../privacy/index.js';
import type { StoreClient } from './client.js';

export async function findVaultRow(client: StoreClient, token: string): Promise<VaultRow | undefined> {
  const [row] = await client.query<VaultRow>(
    'SELECT token, tenant, kind, key_version, sealed FROM vault FINAL WHERE token = {token:String} LIMIT 1',
    { token },
  );
  return row ? { ...row, key_version: Number(row.key_version) } : undefined;
}

export interface AuditRecord {
  /** Who: a digest of the credential used, or `cli:<uid>` — never the credential itself. */
  readonly caller: string;
  readonly action: string;
  readonly target: string;
  readonly reason: string;
  readonly outcome: string;
}

/** Audit rows are written synchronously: the call is answered only after it is recorded. */
export async function recordAudit(client: StoreClient, record: AuditRecord): Promise<void> {
  await client.insert('admin_audit', [{ ...record }]);
}

export async function listAudit(
  client: StoreClient,
  limit = 100,
): Promise<Array<AuditRecord & { time: string }>> {
  return client.query(
    'SELECT time, caller, action, target, reason, outcome FROM admin_audit ORDER BY time DESC LIMIT {limit:UInt32}',
    { limit },
  );
}
