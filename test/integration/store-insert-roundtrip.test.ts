// Every column of an event comes back from the embedded engine exactly as vigil sent it, whatever
// the strings hold (quotes, backslashes, brackets, commas, newlines, any Unicode) and whatever the
// numbers are: the insert hands the engine the whole batch as one JSON text (JSONCompactEachRow
// rows separated by commas, or a JSON array of JSONEachRow objects), and "exactly" is the audit
// chain's own judgement — a row's canonical form sent equals its canonical form read back (what
// `vigil verify` compares).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blankEvent } from '../../src/collectors/normalize.js';
import { loadConfig } from '../../src/config/index.js';
import type { AccessEvent } from '../../src/model/index.js';
import { canonicalRow, type TableShape, tableShape } from '../../src/store/audit-chain/index.js';
import { eventRow, migrate, openStore, type StoreHandle } from '../../src/store/index.js';
import { testTime } from '../helpers/clock.js';
import { tempDataDir } from '../helpers/services.js';

const text = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({
    unit: fc.constantFrom('"', '\\', '[', ']', ',', '\n', '\t', '{', '}', "'", ' ', 'a'),
    maxLength: 12,
  }),
  fc.string({ unit: 'binary', maxLength: 8 }),
);
const count = fc.oneof(fc.constant(null), fc.nat({ max: 2 ** 31 }));

const anyEvent = fc
  .record({
    n: fc.nat(),
    ms: fc.integer({ min: 0, max: 86_399_999 }),
    actor: text,
    collection: text,
    operation_raw: text,
    namespace: text,
    top_k: count,
    returned: count,
    bytes_out: count,
    latency_ms: fc.double({ min: 0, max: 1e6, noNaN: true }),
    status_code: fc.integer({ min: 0, max: 599 }),
    masked: fc.boolean(),
    attributes: fc.dictionary(text, text, { maxKeys: 4 }),
  })
  .map(
    (g): AccessEvent => ({
      ...blankEvent(testTime(0, 0, 0, 0) + g.ms),
      event_id: `roundtrip-${g.n}-${g.ms}`,
      tenant: 't-roundtrip',
      actor: g.actor,
      collection: g.collection,
      operation_raw: g.operation_raw,
      namespace: g.namespace,
      top_k: g.top_k,
      returned: g.returned,
      bytes_out: g.bytes_out,
      latency_ms: g.latency_ms,
      status_code: g.status_code,
      masked: g.masked,
      attributes: g.attributes,
    }),
  );

describe('inserting into the embedded engine', () => {
  let store: StoreHandle;
  let shape: TableShape;

  beforeAll(async () => {
    const config = loadConfig({ VIGIL_DATA_DIR: tempDataDir() });
    store = await openStore(config.env, config.dataDir);
    await migrate(store.client, { eventsTtlDays: 30 });
    shape = await tableShape(store.client, 'events');
  });
  afterAll(async () => store?.close());

  it('reads back every column of every row as sent, in both input formats', async () => {
    let batch = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(anyEvent, { minLength: 1, maxLength: 30, selector: (e) => e.event_id }),
        async (events) => {
          batch++;
          const rows = events.map(
            (e): Record<string, unknown> => eventRow({ ...e, session: `batch-${batch}` }),
          );
          // Alternate batches go as JSONEachRow: a key order differing from the first row's.
          const sent =
            batch % 2 ? rows : rows.map((r, i) => (i === 1 ? { attributes: r.attributes, ...r } : r));
          await store.client.insert('events', sent);
          const back = await store.client.query<Record<string, unknown>>(
            'SELECT * FROM events FINAL WHERE session = {s:String}',
            { s: `batch-${batch}` },
          );
          expect(back).toHaveLength(rows.length);
          const byId = new Map(back.map((r) => [r.event_id, r]));
          for (const row of rows)
            expect(canonicalRow(shape, byId.get(row.event_id)!)).toBe(canonicalRow(shape, row));
        },
      ),
      { numRuns: 40 },
    );
  });
});
