// Several bus messages per Kafka record: the encoding gives back exactly what went in, records stay
// within their bounds, a partition's messages keep their order, records written one message per
// record (no batch header) are still read, and a record this version cannot read is refused.
import fc from 'fast-check';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { BusMessage } from '../../../src/bus/bus.js';
import {
  BATCH_HEADER,
  frameBytes,
  packRecords,
  readRecord,
  UnreadableRecordError,
  unpackRecord,
} from '../../../src/bus/kafka-record-batch.js';
import { CachedDefaultPartitioner, handleRecords, toPartitionRecords } from '../../../src/bus/kafka.bus.js';

const message = (key: string, value: string | Buffer): BusMessage => ({
  key,
  value: Buffer.isBuffer(value) ? value : Buffer.from(value),
});

const arbMessage = fc
  .tuple(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.uint8Array({ maxLength: 300 }))
  .map(([k, v]) => message(k, Buffer.from(v)));

const plain = (messages: readonly BusMessage[]) => messages.map((m) => [m.key, m.value.toString('hex')]);

describe('packRecords / unpackRecord', () => {
  it('round-trips any messages, in order, within the count and byte bounds', () => {
    fc.assert(
      fc.property(
        fc.array(arbMessage, { maxLength: 120 }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 2_000 }),
        (messages, maxEvents, maxBytes) => {
          const records = packRecords(messages, { maxEvents, maxBytes });
          const back = records.flatMap((r) => unpackRecord(Buffer.from(r.key), r.value, r.headers));
          expect(plain(back)).toEqual(plain(messages));
          for (const r of records) {
            expect(r.count).toBeLessThanOrEqual(maxEvents);
            expect(r.count).toBeGreaterThan(0);
            // Over the byte bound only as a single message too large for any record.
            if (r.value.length > maxBytes) expect(r.count).toBe(1);
            expect(r.key).toBe(unpackRecord(null, r.value, r.headers)[0]!.key);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('fills records up to the bounds rather than cutting early', () => {
    const messages = Array.from({ length: 1_000 }, (_, i) => message(`k${i % 7}`, 'x'.repeat(100)));
    const size = frameBytes(messages[0]!);
    expect(packRecords(messages, { maxEvents: 300, maxBytes: 1_000_000 }).map((r) => r.count)).toEqual([
      300, 300, 300, 100,
    ]);
    const bySize = packRecords(messages, { maxEvents: 10_000, maxBytes: size * 64 });
    expect(bySize.map((r) => r.count)).toEqual([...Array.from({ length: 15 }, () => 64), 40]);
    for (const r of bySize) expect(r.value.length).toBeLessThanOrEqual(size * 64);
  });

  it('reads a record without the batch header as one message (the one-record-per-message format)', () => {
    expect(plain(unpackRecord(Buffer.from('t\u0000usr_a'), Buffer.from('{"a":1}'), {}))).toEqual(
      plain([message('t\u0000usr_a', '{"a":1}')]),
    );
    expect(plain(unpackRecord(null, null, undefined))).toEqual([['', '']]);
  });

  it('refuses an unknown format version and a truncated record instead of skipping their events', () => {
    const [record] = packRecords([message('k', 'a value'), message('k2', 'another')], {
      maxEvents: 10,
      maxBytes: 1_000,
    });
    expect(() => unpackRecord(null, record!.value, { [BATCH_HEADER]: Buffer.from('2') })).toThrow(
      UnreadableRecordError,
    );
    for (const cut of [1, 3, record!.value.length - 1])
      expect(() => unpackRecord(null, record!.value.subarray(0, cut), record!.headers)).toThrow(
        UnreadableRecordError,
      );
    // The header as kafkajs hands it over (bytes) reads the same as the string written.
    expect(unpackRecord(null, record!.value, { [BATCH_HEADER]: Buffer.from('1') })).toHaveLength(2);
  });
});

describe('readRecord (what a consumer reads)', () => {
  const [record] = packRecords([message('k', 'a value'), message('k2', 'another')], {
    maxEvents: 10,
    maxBytes: 1_000,
  });

  it('hands a corrupt or forged batch of this version over whole, as one message the handler dead-letters', () => {
    for (const cut of [1, 3, record!.value.length - 1]) {
      const value = record!.value.subarray(0, cut);
      expect(plain(readRecord(Buffer.from('key'), value, record!.headers))).toEqual(
        plain([message('key', value)]),
      );
    }
    const forged = Buffer.from('{"not":"frames"} but a batch header');
    expect(readRecord(null, forged, { [BATCH_HEADER]: '1' })).toHaveLength(1);
  });

  it("still stops at a newer version's record (read after the upgrade, never skipped)", () => {
    expect(() => readRecord(null, record!.value, { [BATCH_HEADER]: Buffer.from('2') })).toThrow(
      UnreadableRecordError,
    );
    expect(readRecord(null, record!.value, record!.headers)).toHaveLength(2);
  });
});

describe('toPartitionRecords', () => {
  it("puts every message in the partition its key alone would get, each key's messages in order", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.nat()), { maxLength: 300 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 20 }),
        (picks, partitions, maxEvents) => {
          const messages = picks.map(([k, n], i) => message(`tenant\u0000usr_${k}`, `${i}:${n}`));
          const records = toPartitionRecords('t', messages, partitions, CachedDefaultPartitioner(), {
            maxEvents,
            maxBytes: 4_096,
          });
          const alone = Partitioners.DefaultPartitioner();
          const metadata = Array.from({ length: partitions }, (_, partitionId) => ({
            partitionId,
            leader: 0,
            replicas: [0],
            isr: [0],
            partitionErrorCode: 0,
            offlineReplicas: [],
          }));
          const byKey = new Map<string, string[]>();
          for (const r of records)
            for (const m of unpackRecord(null, r.value, r.headers)) {
              expect(r.partition).toBe(alone({ topic: 't', partitionMetadata: metadata, message: m }));
              byKey.set(m.key, [...(byKey.get(m.key) ?? []), m.value.toString()]);
            }
          for (const [key, values] of byKey)
            expect(values).toEqual(messages.filter((m) => m.key === key).map((m) => m.value.toString()));
          expect(records.reduce((n, r) => n + r.count, 0)).toBe(messages.length);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('handleRecords', () => {
  const records = (counts: number[]) =>
    counts.map((count, r) => {
      const messages = Array.from({ length: count }, (_, i) => message('k', `${r}.${i}`));
      const [packed] = count ? packRecords(messages, { maxEvents: 1_000, maxBytes: 1_000_000 }) : [];
      return {
        key: Buffer.from('k'),
        value: packed?.value ?? Buffer.alloc(0),
        headers: { [BATCH_HEADER]: Buffer.from('1') },
        offset: String(100 + r),
      };
    });

  it('hands at most maxBatch messages at a time and commits a record only once all of it was handled', async () => {
    const calls: string[][] = [];
    const commits: Array<{ offset: string; handled: number }> = [];
    let handled = 0;
    await handleRecords(
      records([3, 5, 0, 2]),
      4,
      async (ms) => {
        calls.push(ms.map((m) => m.value.toString()));
        handled += ms.length;
      },
      async (offset) => {
        commits.push({ offset, handled });
      },
      () => true,
    );
    expect(calls).toEqual([
      ['0.0', '0.1', '0.2', '1.0'],
      ['1.1', '1.2', '1.3', '1.4'],
      ['3.0', '3.1'],
    ]);
    // Record 100 after the first call, 101 after the second; the empty 102 with 103 at the end.
    expect(commits).toEqual([
      { offset: '100', handled: 4 },
      { offset: '101', handled: 8 },
      { offset: '103', handled: 10 },
    ]);
  });

  it('hands a corrupt record in the middle over as one message and commits past it; as-is reads every record whole', async () => {
    const rs = records([2, 3, 1]);
    const corrupt = { ...rs[1]!, value: rs[1]!.value.subarray(0, 5) };
    const seen: string[] = [];
    const commits: string[] = [];
    const run = (input: typeof rs, read?: Parameters<typeof handleRecords>[5]) =>
      handleRecords(
        input,
        10,
        async (ms) => {
          for (const m of ms) seen.push(m.value.toString('hex'));
        },
        async (offset) => {
          commits.push(offset);
        },
        () => true,
        read,
      );
    await run([rs[0]!, corrupt, rs[2]!]);
    expect(seen).toEqual([
      Buffer.from('0.0').toString('hex'),
      Buffer.from('0.1').toString('hex'),
      corrupt.value.toString('hex'),
      Buffer.from('2.0').toString('hex'),
    ]);
    expect(commits).toEqual(['102']);
    seen.length = 0;
    await run(rs, (key, value) => [{ key: key?.toString() ?? '', value: value ?? Buffer.alloc(0) }]);
    expect(seen).toEqual(rs.map((r) => r.value.toString('hex')));
  });

  it('commits nothing of a record whose messages were not all handled (a failure or a stop)', async () => {
    const commits: string[] = [];
    let calls = 0;
    await expect(
      handleRecords(
        records([2, 6]),
        4,
        async () => {
          if (++calls === 2) throw new Error('insert failed');
        },
        async (offset) => {
          commits.push(offset);
        },
        () => true,
      ),
    ).rejects.toThrow('insert failed');
    // The first call held record 100 whole and two of 101's six: only 100 is committed.
    expect(commits).toEqual(['100']);
    commits.length = 0;
    let running = true;
    await handleRecords(
      records([2, 6]),
      4,
      async () => {
        running = false;
      },
      async (offset) => {
        commits.push(offset);
      },
      () => running,
    );
    expect(commits).toEqual(['100']);
  });
});
