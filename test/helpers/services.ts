// Where the real services started by scripts/services.sh listen (overridable by env). Tests that
// need them fail loudly when they are down: the test command starts them.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const KAFKA_BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:19092';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:16379';
export const PG_URL = process.env.PG_URL ?? 'postgres://vigil:vigil@127.0.0.1:15432/vigil';

/** A unique name for topics, queues and tenants, so tests never see each other's data. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** A fresh data directory; under the run directory, so the suite's privacy scan reads it. */
export function tempDataDir(): string {
  const root = process.env.VIGIL_TEST_RUN_DIR
    ? path.join(process.env.VIGIL_TEST_RUN_DIR, 'stores')
    : tmpdir();
  return mkdtempSync(path.join(root, 'vigil-test-'));
}
