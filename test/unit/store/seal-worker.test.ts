// Sealing on a worker thread answers exactly what sealing on this thread does, for any rows; a
// worker that fails, or is closed, rejects the seals it held and the next seal starts a new one.
// The worker runs its compiled entry (dist/, built by the test command before the suite).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createSealWorker,
  sealHere,
  sealRows,
  sealRowsSteps,
  type TableShape,
} from '../../../src/store/audit-chain/index.js';

const ENTRY = new URL('../../../dist/src/store/audit-chain/seal.worker.js', import.meta.url);

const shape: TableShape = {
  table: 'events',
  columns: [
    { name: 'attributes', type: 'Map(LowCardinality(String), String)' },
    { name: 'bytes_out', type: 'Nullable(UInt64)' },
    { name: 'collection', type: 'LowCardinality(String)' },
    { name: 'event_id', type: 'String' },
    { name: 'latency_ms', type: 'Float32' },
    { name: 'masked', type: 'Bool' },
    { name: 'scores', type: 'Array(Float64)' },
    { name: 'tenant', type: 'LowCardinality(String)' },
    { name: 'time', type: "DateTime64(3, 'UTC')" },
  ],
  keyColumns: [
    { name: 'tenant', type: 'LowCardinality(String)' },
    { name: 'time', type: "DateTime64(3, 'UTC')" },
    { name: 'event_id', type: 'String' },
  ],
  folds: true,
  ttl: { column: 'time', days: 30 },
};

const time = fc
  .integer({ min: 0, max: 4_102_444_800_000 })
  .map((ms) => new Date(ms).toISOString().replace('T', ' ').replace('Z', ''));
const anyRow = fc.record(
  {
    attributes: fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer())),
    bytes_out: fc.oneof(fc.constant(null), fc.nat(), fc.constant(undefined)),
    collection: fc.string({ unit: 'grapheme' }),
    event_id: fc.string({ unit: 'binary' }),
    latency_ms: fc.oneof(fc.double(), fc.constant('3.25')),
    masked: fc.oneof(fc.boolean(), fc.constantFrom(0, 1, 'true')),
    scores: fc.array(fc.double({ noNaN: true })),
    tenant: fc.string(),
    time: fc.oneof(time, fc.constant('not a time')),
  },
  { requiredKeys: ['event_id', 'tenant'] },
);

describe('the seal worker', () => {
  const worker = createSealWorker({ script: ENTRY, minRows: 1 });
  afterAll(() => worker.close());

  it('runs on a thread when its entry is built, and answers what sealRows answers for any rows', async () => {
    expect(worker.threaded).toBe(true);
    await fc.assert(
      fc.asyncProperty(fc.array(anyRow, { maxLength: 40 }), async (rows) => {
        expect(await worker.seal(shape, rows)).toEqual(sealRows(shape, rows));
      }),
      { numRuns: 60 },
    );
  });

  it('seals a batch smaller than minRows on the calling thread, and the same', async () => {
    const small = createSealWorker({ script: ENTRY, minRows: 1_000 });
    const rows = fc.sample(anyRow, { numRuns: 10, seed: 5 });
    expect(await small.seal(shape, rows)).toEqual(sealRows(shape, rows));
    await small.close();
  });

  it('rejects with the worker side error, as sealing here throws', async () => {
    const rows = [{ tenant: 't', event_id: 'e', collection: { n: 1n } }];
    expect(() => sealRows(shape, rows)).toThrow(/BigInt/);
    await expect(worker.seal(shape, rows)).rejects.toThrow(/seal worker: .*BigInt/);
    // The thread is still there for the next batch.
    expect(await worker.seal(shape, [{ tenant: 't', event_id: 'e2' }])).toEqual(
      sealRows(shape, [{ tenant: 't', event_id: 'e2' }]),
    );
  });

  it('rejects the seals it held when closed, and starts again for the next', async () => {
    const rows = fc.sample(anyRow, { numRuns: 2_000, seed: 9 });
    const held = expect(worker.seal(shape, rows)).rejects.toThrow(/closed/);
    await worker.close();
    await held;
    expect(await worker.seal(shape, rows.slice(0, 5))).toEqual(sealRows(shape, rows.slice(0, 5)));
  });

  it('rejects the seals of a worker that fails to start, and tries a new one next time', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-seal-'));
    const broken = path.join(dir, 'broken.worker.mjs');
    writeFileSync(broken, "throw new Error('entry failed');\n");
    const failing = createSealWorker({ script: pathToFileURL(broken), minRows: 1 });
    await expect(failing.seal(shape, [{ tenant: 't', event_id: 'e' }])).rejects.toThrow(
      /seal worker failed: entry failed/,
    );
    await expect(failing.seal(shape, [{ tenant: 't', event_id: 'e' }])).rejects.toThrow(/entry failed/);
    await failing.close();
  });

  it('seals on this thread in steps that may give the event loop back, with the same answer', async () => {
    const rows = fc.sample(anyRow, { numRuns: 1_500, seed: 3 });
    // The steps pause every few rows (runSliced turns the loop there once a slice's time is up;
    // whether it does depends on the machine's speed, so the pauses are counted, not the turns).
    const steps = sealRowsSteps(shape, rows);
    let pauses = 0;
    let r = steps.next();
    while (!r.done) {
      pauses++;
      r = steps.next();
    }
    expect(pauses).toBeGreaterThanOrEqual(20);
    expect(r.value).toEqual(sealRows(shape, rows));
    const sealed = await sealHere(shape, rows);
    expect(sealed).toEqual(sealRows(shape, rows));
    expect(sealed.entries).toHaveLength(1_500);
  });

  it('seals on the calling thread when the entry is not built (running from source)', async () => {
    const missing = createSealWorker({ script: new URL('./no-such.worker.js', import.meta.url), minRows: 1 });
    expect(missing.threaded).toBe(false);
    const rows = fc.sample(anyRow, { numRuns: 5, seed: 1 });
    expect(await missing.seal(shape, rows)).toEqual(sealRows(shape, rows));
  });
});
