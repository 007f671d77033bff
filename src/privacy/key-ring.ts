// The tokenization key ring: versioned HMAC keys. A key comes from VIGIL_TOKEN_KEY (base64 or hex,
// at least 32 bytes) or, when unset, from $VIGIL_DATA_DIR/keys/token-keys.json, created on first use
// with mode 0600.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../config/index.js';

export interface TokenKey {
  readonly version: number;
  readonly secret: Buffer;
}

export interface KeyRing {
  readonly current: TokenKey;
  /** True when this call created the key file (the caller says so once). */
  readonly created: boolean;
}

interface KeyFile {
  current: number;
  keys: Array<{ version: number; secret: string }>;
}

export function decodeKey(raw: string, name: string): Buffer {
  const trimmed = raw.trim();
  const buf =
    /^[0-9a-fA-F]+$/.test(trimmed) && trimmed.length % 2 === 0
      ? Buffer.from(trimmed, 'hex')
      : Buffer.from(trimmed, 'base64');
  if (buf.length < 32)
    throw new ConfigError(`${name}: key must be at least 32 bytes (base64 or hex), got ${buf.length}`);
  return buf;
}

export function loadKeyRing(opts: { dataDir: string; envKey?: string; envVersion: number }): KeyRing {
  if (opts.envKey) {
    return {
      current: { version: opts.envVersion, secret: decodeKey(opts.envKey, 'VIGIL_TOKEN_KEY') },
      created: false,
    };
  }
  const dir = path.join(opts.dataDir, 'keys');
  const file = path.join(dir, 'token-keys.json');
  let created = false;
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const initial: KeyFile = {
      current: 1,
      keys: [{ version: 1, secret: randomBytes(32).toString('base64') }],
    };
    writeFileSync(file, JSON.stringify(initial, null, 2), { mode: 0o600, flag: 'wx' });
    created = true;
  }
  chmodSync(file, 0o600);
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as KeyFile;
  const entry = parsed.keys.find((k) => k.version === parsed.current);
  if (!entry) throw new ConfigError(`${file}: current key version ${parsed.current} is missing`);
  return { current: { version: entry.version, secret: decodeKey(entry.secret, file) }, created };
}

/**
 * A secret read from env, or generated once into $VIGIL_DATA_DIR/keys/<name> (mode 0600).
 * Used for bearer tokens of sources and the admin API when the operator did not set one.
 */
export function loadOrCreateSecret(
  dataDir: string,
  name: string,
  generate: () => string,
): { value: string; created: boolean; file: string } {
  const dir = path.join(dataDir, 'keys');
  const file = path.join(dir, name);
  if (existsSync(file)) return { value: readFileSync(file, 'utf8').trim(), created: false, file };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const value = generate();
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return { value, created: true, file };
}
