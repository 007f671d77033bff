// The re-identification vault: token → raw value, encrypted with AES-256-GCM under a key of its
// own (never the tokenization key). The token is the additional authenticated data, so a
// ciphertext moved to another token does not decrypt. Pure: storing rows is the caller's job.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { IdentifierKind } from './tokenizer.js';

export interface VaultRow {
  readonly token: string;
  readonly tenant: string;
  readonly kind: IdentifierKind;
  readonly key_version: number;
  /** base64(iv ‖ tag ‖ ciphertext) */
  readonly sealed: string;
}

export interface VaultCipher {
  seal(entry: { token: string; tenant: string; kind: IdentifierKind; raw: string }): VaultRow;
  open(row: Pick<VaultRow, 'token' | 'sealed' | 'key_version'>): string;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

export function createVaultCipher(key: Buffer, version = 1): VaultCipher {
  if (key.length !== 32) throw new Error(`vault key must be 32 bytes, got ${key.length}`);
  return {
    seal({ token, tenant, kind, raw }) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(token));
      const ct = Buffer.concat([cipher.update(raw, 'utf8'), cipher.final()]);
      return {
        token,
        tenant,
        kind,
        key_version: version,
        sealed: Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64'),
      };
    },
    open(row) {
      if (row.key_version !== version)
        throw new Error(`vault row sealed with key version ${row.key_version}, have ${version}`);
      const buf = Buffer.from(row.sealed, 'base64');
      const decipher = createDecipheriv('aes-256-gcm', key, buf.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(row.token));
      decipher.setAuthTag(buf.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(buf.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
        'utf8',
      );
    },
  };
}
