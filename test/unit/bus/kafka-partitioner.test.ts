// The bus's producer remembers each key's partition instead of hashing it for every message: it must
// pick exactly the partition kafkajs's DefaultPartitioner picks (what other Kafka clients pick for
// the same key), also after the partition count changed.
import fc from 'fast-check';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { CachedDefaultPartitioner } from '../../../src/bus/kafka.bus.js';

const metadata = (n: number, leader = 1) =>
  Array.from({ length: n }, (_, partitionId) => ({
    partitionId,
    leader,
    replicas: [leader],
    isr: [leader],
    partitionErrorCode: 0,
    offlineReplicas: [],
  }));

describe('CachedDefaultPartitioner', () => {
  it('gives every key the DefaultPartitioner partition, first and repeated sight, any count', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ maxLength: 60 }), fc.integer({ min: 1, max: 64 })), {
          minLength: 1,
          maxLength: 200,
        }),
        (uses) => {
          const cached = CachedDefaultPartitioner();
          const plain = Partitioners.DefaultPartitioner();
          // Each key twice: the second answer comes from the cache.
          for (const [key, n] of [...uses, ...uses]) {
            const args = { topic: 't', partitionMetadata: metadata(n), message: { key, value: 'v' } };
            expect(cached(args)).toBe(plain(args));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('forgets a key when the topic gains partitions', () => {
    const cached = CachedDefaultPartitioner();
    const plain = Partitioners.DefaultPartitioner();
    // A key whose partition differs between 6 and 12 partitions.
    const key = Array.from({ length: 100 }, (_, i) => `tenant\u0000usr_${i}`).find((k) => {
      const at = (n: number) =>
        plain({ topic: 't', partitionMetadata: metadata(n), message: { key: k, value: '' } });
      return at(6) !== at(12);
    })!;
    const at = (n: number) =>
      cached({ topic: 't', partitionMetadata: metadata(n), message: { key, value: '' } });
    const six = at(6);
    expect(at(12)).not.toBe(six);
    expect(at(12)).toBe(plain({ topic: 't', partitionMetadata: metadata(12), message: { key, value: '' } }));
  });

  it('leaves messages with a partition of their own, or without a key, to kafkajs', () => {
    const cached = CachedDefaultPartitioner();
    const args = (message: { key?: string | null; value: string; partition?: number }) => ({
      topic: 't',
      partitionMetadata: metadata(6),
      message,
    });
    expect(cached(args({ key: 'a', value: '', partition: 4 }))).toBe(4);
    expect(cached(args({ key: 'a', value: '', partition: 2 }))).toBe(2);
    // No key: kafkajs goes round the available partitions.
    const seen = new Set(Array.from({ length: 12 }, () => cached(args({ key: null, value: '' }))));
    expect(seen.size).toBe(6);
  });
});
