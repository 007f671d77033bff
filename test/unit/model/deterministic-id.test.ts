// Event ids must never change between versions (a redelivery across an upgrade deduplicates only on
// the same id): the one-shot hash against the SHA-256 of the NUL-joined parts, byte for byte.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deterministicId } from '../../../src/model/index.js';

/** The definition: SHA-256 of each part followed by a NUL, hex, first 128 bits. */
function definition(parts: Array<string | number>): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(String(p)).update('\u0000');
  return h.digest('hex').slice(0, 32);
}

describe('deterministicId', () => {
  it('is the SHA-256 of the NUL-joined parts, for any text (lone surrogates too) and numbers', () => {
    const part = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.string({ unit: 'grapheme', maxLength: 20 }),
      fc.double(),
      fc.integer(),
    );
    fc.assert(
      fc.property(fc.array(part, { maxLength: 4 }), (parts) => {
        expect(deterministicId(...parts)).toBe(definition(parts));
      }),
      { numRuns: 2_000 },
    );
  });

  it('keeps the ids stored so far', () => {
    // Pinned: an id computed before the one-shot hash; a change here breaks deduplication.
    expect(deterministicId('otel', '0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331')).toBe(
      '190bb936d7d1d14c3bc3e58ea0450478',
    );
    expect(deterministicId('generic', 't1', 'evt-1')).toBe('9c847b4d9a0703d576f0acb589beff77');
  });
});
