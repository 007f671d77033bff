// The secrets a vigil keeps under $VIGIL_DATA_DIR/keys when the environment gives none: the admin
// token, the vault key, the audit chain's identity and the default webhook signing secret. Each is
// generated once (owner-only) and read back on every later start.
import { randomBytes } from 'node:crypto';
import { splitTokens } from '../../collectors/auth.js';
import type { Config } from '../../config/index.js';
import { decodeKey, loadOrCreateSecret } from '../../privacy/index.js';

const newToken = () => randomBytes(24).toString('base64url');
export const newWebhookSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

export function adminTokens(config: Config): string[] {
  const fromEnv = splitTokens(config.env.VIGIL_ADMIN_TOKEN);
  return fromEnv.length ? fromEnv : [loadOrCreateSecret(config.dataDir, 'admin.token', newToken).value];
}

/** The vault's own key: VIGIL_VAULT_KEY, else generated once under $VIGIL_DATA_DIR/keys/vault.key. */
export function vaultKey(config: Config): Buffer {
  const raw =
    config.env.VIGIL_VAULT_KEY ??
    loadOrCreateSecret(config.dataDir, 'vault.key', () => randomBytes(32).toString('base64')).value;
  const key = decodeKey(raw, 'VIGIL_VAULT_KEY');
  return key.subarray(0, 32);
}

/**
 * The audit chain's identity: its id (one chain per store process) and its HMAC key, both kept
 * under $VIGIL_DATA_DIR/keys and never written to ClickHouse.
 */
export function chainIdentity(config: Config): { chain: string; key: Buffer } {
  const chain = loadOrCreateSecret(config.dataDir, 'chain.id', () => randomBytes(6).toString('hex')).value;
  const key = loadOrCreateSecret(config.dataDir, 'chain.key', () => randomBytes(32).toString('base64')).value;
  return { chain, key: Buffer.from(key, 'base64') };
}

/** The signing secret of webhook targets without one of their own. */
export function defaultWebhookSecret(config: Config): string {
  return loadOrCreateSecret(config.dataDir, 'webhook.secret', newWebhookSecret).value;
}
