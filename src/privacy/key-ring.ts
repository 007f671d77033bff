// The tokenization key ring: versioned HMAC keys. A key comes from VIGIL_TOKEN_KEY (base64 or hex,
// at least 32 bytes) or, when unset, from $VIGIL_DATA_DIR/keys/token-keys.json, created on first use
// with mode 0600.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../config/index.js';

export interface TokenKey {
  readonly version: number;
  readonly secret: Buffer;
}

export interface KeyRing {
  readonly current: TokenKey;
  /**
   * The version before `current`, kept after a rotation so identifiers seen again can be linked
   * to their old tokens (detector baselines stay continuous).
   */
  readonly previous?: TokenKey;
  /** True when this call created the key file (the caller says so once). */
  readonly created: boolean;
}

interface KeyFile {
  current: number;
  keys: Array<{ version: number; secret: string; created?: string }>;
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

export interface KeyRingOptions {
  readonly dataDir: string;
  readonly envKey?: string;
  readonly envVersion: number;
  /** The key of version envVersion − 1, during a rotation done through the environment. */
  readonly envPreviousKey?: string;
}

const keyFileOf = (dataDir: string) => path.join(dataDir, 'keys', 'token-keys.json');

export function loadKeyRing(opts: KeyRingOptions): KeyRing {
  if (opts.envKey) {
    return {
      current: { version: opts.envVersion, secret: decodeKey(opts.envKey, 'VIGIL_TOKEN_KEY') },
      previous: opts.envPreviousKey
        ? { version: opts.envVersion - 1, secret: decodeKey(opts.envPreviousKey, 'VIGIL_TOKEN_KEY_PREVIOUS') }
        : undefined,
      created: false,
    };
  }
  const dir = path.join(opts.dataDir, 'keys');
  const file = keyFileOf(opts.dataDir);
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
  const before = parsed.keys
    .filter((k) => k.version < parsed.current)
    .sort((a, b) => b.version - a.version)[0];
  return {
    current: { version: entry.version, secret: decodeKey(entry.secret, file) },
    previous: before ? { version: before.version, secret: decodeKey(before.secret, file) } : undefined,
    created,
  };
}

/**
 * Adds a new key version and makes it current (`vigil keys rotate`). Older versions stay in the
 * file: the one just before the current links old tokens to new ones. Takes effect on restart.
 */
export function rotateKeyRing(dataDir: string): { version: number; file: string } {
  const file = keyFileOf(dataDir);
  if (!existsSync(file)) loadKeyRing({ dataDir, envVersion: 1 });
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as KeyFile;
  const version = Math.max(...parsed.keys.map((k) => k.version)) + 1;
  parsed.keys.push({
    version,
    secret: randomBytes(32).toString('base64'),
    created: new Date().toISOString(),
  });
  parsed.current = version;
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(parsed, null, 2), { mode: 0o600 });
  renameSync(tmp, file);
  return { version, file };
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
