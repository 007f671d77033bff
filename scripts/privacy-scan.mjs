#!/usr/bin/env node
// Scans one embedded ClickHouse data directory for raw identifiers (emails, IPv4 addresses
// other than loopback, test credential names). Prints {"dir", "rows", "hits": [{table, match}]}.
// Used by the test suite's global teardown: one process per directory (the engine binds one).
import { createClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';

export const RAW_PATTERNS = [
  /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g,
  /\b(?!127\.0\.0\.1\b)(?!0\.0\.0\.0\b)(?:\d{1,3}\.){3}\d{1,3}\b/g,
  /\bkey-person\d+\b/g,
  /\bsess-person\d+/g,
];

const dir = process.argv[2];
const client = createClient({ connection: createChdbConnection({ path: dir }) });
const hits = [];
let rows = 0;
try {
  const tables = await (
    await client.query({
      query:
        "SELECT database, name FROM system.tables WHERE database NOT IN ('system', 'INFORMATION_SCHEMA', 'information_schema') AND engine NOT IN ('MaterializedView', 'View')",
      format: 'JSONEachRow',
    })
  ).json();
  // Pages of PAGE rows keep each result far below the longest string V8 makes (a 30-minute soak
  // stores millions); binary columns (checkpointed detector state) come out with invalid UTF-8
  // replaced, which the patterns do not need.
  const PAGE = 100_000;
  for (const { database, name } of tables) {
    for (let offset = 0; ; offset += PAGE) {
      const text = await (
        await client.query({
          query: `SELECT * FROM \`${database}\`.\`${name}\` LIMIT ${PAGE} OFFSET ${offset}`,
          format: 'JSONEachRow',
          clickhouse_settings: { output_format_json_validate_utf8: 1 },
        })
      ).text();
      const count = text.length ? text.split('\n').length - 1 : 0;
      rows += count;
      for (const re of RAW_PATTERNS) {
        for (const m of text.matchAll(re)) {
          hits.push({ table: `${database}.${name}`, match: m[0] });
          if (hits.length > 50) break;
        }
      }
      if (count < PAGE) break;
    }
  }
} finally {
  await client.close();
}
process.stdout.write(`${JSON.stringify({ dir, rows, hits })}\n`);
