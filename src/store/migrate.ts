// Numbered SQL migrations (src/store/migrations/NNN_name.sql), applied in order, recorded in
// schema_migrations with a checksum, idempotent: applying twice changes nothing.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../config/index.js';
import type { StoreClient } from './client.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export interface MigrateOptions {
  /** Days to keep raw events (applied as the events table TTL on every migrate). */
  readonly eventsTtlDays: number;
}

export function loadMigrations(dir = path.join(packageRoot(), 'src/store/migrations')): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({
      version: Number(f.slice(0, 3)),
      name: f.replace(/\.sql$/, ''),
      sql: readFileSync(path.join(dir, f), 'utf8'),
    }));
}

/** Splits a migration file into statements (no semicolons inside our DDL literals). */
export function statements(sql: string): string[] {
  return sql
    .split('\n')
    .filter((l) => !l.trim().startsWith('--'))
    .join('\n')
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean);
}

export async function migrate(client: StoreClient, opts: MigrateOptions): Promise<{ applied: string[] }> {
  await client.command(`CREATE TABLE IF NOT EXISTS schema_migrations
      (version UInt32, name String, checksum String, applied_time DateTime64(3, 'UTC') DEFAULT now64(3))
      ENGINE = ReplacingMergeTree ORDER BY version`);
  const done = await client.query<{ version: number; checksum: string }>(
    'SELECT version, checksum FROM schema_migrations FINAL',
  );
  const recorded = new Map(done.map((r) => [Number(r.version), r.checksum]));
  const applied: string[] = [];
  for (const m of loadMigrations()) {
    const checksum = createHash('sha256').update(m.sql).digest('hex').slice(0, 16);
    const seen = recorded.get(m.version);
    if (seen !== undefined) {
      if (seen !== checksum)
        throw new Error(`migration ${m.name} changed after it was applied (checksum ${seen} → ${checksum})`);
      continue;
    }
    for (const stmt of statements(m.sql)) await client.command(stmt);
    await client.insert('schema_migrations', [{ version: m.version, name: m.name, checksum }]);
    applied.push(m.name);
  }
  // Retention is configuration, not schema: re-applied on every start so a change takes effect.
  const days = Math.trunc(opts.eventsTtlDays);
  await client.command(`ALTER TABLE events MODIFY TTL toDateTime(time) + INTERVAL ${days} DAY`);
  return { applied };
}
