// Tokenization and re-identification, set up once for every role: the key ring, the tokenizer
// that writes a vault row (sealed) when it first makes a token for a raw value, and the
// re-identification the responder and the admin API share.
import type { ReidentifyDeps } from '../../admin/reidentify.js';
import type { Config } from '../../config/index.js';
import { errorMessage } from '../../model/index.js';
import {
  createTokenizer,
  createVaultCipher,
  type KeyRing,
  loadKeyRing,
  type Tokenizer,
  type VaultRow,
} from '../../privacy/index.js';
import { createBatchedWriter, findVaultRow, recordAudit, type StoreClient } from '../../store/index.js';
import type { Logger } from '../../telemetry/index.js';
import { vaultKey } from './secrets.js';

export interface Privacy {
  readonly tokenizer: Tokenizer;
  readonly reidentify: ReidentifyDeps;
}

/** The tokenization keys: VIGIL_TOKEN_KEY (and its previous), else created under $VIGIL_DATA_DIR/keys. */
export function loadTokenKeys(config: Config, logger: Logger): KeyRing {
  const keyRing = loadKeyRing({
    dataDir: config.dataDir,
    envKey: config.env.VIGIL_TOKEN_KEY,
    envVersion: config.env.VIGIL_TOKEN_KEY_VERSION,
    envPreviousKey: config.env.VIGIL_TOKEN_KEY_PREVIOUS,
  });
  if (keyRing.created)
    logger.warn(
      { dir: `${config.dataDir}/keys` },
      'no VIGIL_TOKEN_KEY set: created a tokenization key (mode 0600); back it up',
    );
  return keyRing;
}

export function wirePrivacy(o: {
  config: Config;
  keyRing: KeyRing;
  store: StoreClient;
  logger: Logger;
}): Privacy {
  // The vault is written at the edge, when a token is first made for a raw value.
  const cipher = o.config.env.VIGIL_VAULT_ENABLED ? createVaultCipher(vaultKey(o.config)) : undefined;
  const vaultWriter = cipher
    ? createBatchedWriter<VaultRow>({
        client: o.store,
        table: 'vault',
        toRow: (r) => ({ ...r }),
        dedupKey: (r) => r.token,
        maxAgeMs: 500,
      })
    : undefined;
  const tokenizer = createTokenizer(o.keyRing.current, {
    previous: o.keyRing.previous,
    queryText: o.config.env.VIGIL_QUERY_TEXT,
    onNewToken: vaultWriter
      ? (entry) => {
          // Fire and forget is safe here: a lost vault row is re-made the next time the value is seen.
          vaultWriter
            .write([cipher!.seal(entry)])
            .catch((err) => o.logger.error({ err: errorMessage(err) }, 'vault write failed'));
        }
      : undefined,
  });
  const reidentify: ReidentifyDeps = {
    cipher,
    // Flushed first: a token made a moment ago may still be in the writer.
    lookup: async (token) => {
      await vaultWriter?.flush();
      return findVaultRow(o.store, token);
    },
    audit: (record) => recordAudit(o.store, record),
  };
  return { tokenizer, reidentify };
}
