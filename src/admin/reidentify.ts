// Re-identification: token → raw value, for an authorised caller, every call audited (including
// refusals and misses). The value is returned to the caller and written nowhere else.
import type { VaultCipher, VaultRow } from '../privacy/index.js';
import type { AuditRecord } from '../store/index.js';

export interface ReidentifyDeps {
  readonly cipher: VaultCipher | undefined;
  readonly lookup: (token: string) => Promise<VaultRow | undefined>;
  readonly audit: (record: AuditRecord) => Promise<void>;
}

export type ReidentifyResult =
  | { found: true; token: string; kind: string; tenant: string; value: string }
  | { found: false; token: string; reason: string };

export async function reidentify(
  deps: ReidentifyDeps,
  req: { token: string; reason: string; caller: string },
): Promise<ReidentifyResult> {
  const base = { caller: req.caller, action: 'reidentify', target: req.token, reason: req.reason };
  if (!deps.cipher) {
    await deps.audit({ ...base, outcome: 'vault_disabled' });
    return { found: false, token: req.token, reason: 'the vault is disabled (VIGIL_VAULT_ENABLED=false)' };
  }
  const row = await deps.lookup(req.token);
  if (!row) {
    await deps.audit({ ...base, outcome: 'not_found' });
    return { found: false, token: req.token, reason: 'no vault entry for this token' };
  }
  const value = deps.cipher.open(row);
  // Audited before the value leaves: a failure to record means no answer.
  await deps.audit({ ...base, outcome: 'revealed' });
  return { found: true, token: req.token, kind: row.kind, tenant: row.tenant, value };
}
