// The OTLP decoder's string table (same string for the same bytes) against protobufjs' own string
// reader, for Buffer and Uint8Array readers (protobufjs decodes them with different code) sharing a table, with tables
// small enough that strings collide and replace each other.
import fc from 'fast-check';
import protobuf from 'protobufjs/minimal.js';
import { describe, expect, it } from 'vitest';
import { StringTable } from '../../../src/collectors/otlp/string-table.js';

/** Length-delimited fields back to back, as a string field is on the wire. */
function encode(fields: Uint8Array[]): Uint8Array {
  const w = protobuf.Writer.create();
  for (const f of fields) w.bytes(f);
  return w.finish();
}

const fieldArb = fc.oneof(
  // Repeating ASCII (what the table serves), invalid and multi-byte UTF-8, and lengths around the limit.
  fc
    .constantFrom('db.system.name', 'db.user', 'a', '', 'x'.repeat(48), 'x'.repeat(49))
    .map((s) => Buffer.from(s)),
  fc.string({ maxLength: 60 }).map((s) => Buffer.from(s)),
  fc.string({ unit: 'grapheme', maxLength: 12 }).map((s) => Buffer.from(s)),
  fc.uint8Array({ maxLength: 52 }),
  fc.uint8Array({ min: 0x61, max: 0x64, minLength: 1, maxLength: 3 }),
);

describe('StringTable.read', () => {
  it('reads what Reader.string reads and leaves the reader at the same position', () => {
    fc.assert(
      fc.property(
        fc.array(fieldArb, { maxLength: 40 }),
        fc.constantFrom(1, 2, 8, 64),
        fc.boolean(),
        (fields, slots, bufferFirst) => {
          const bytes = encode(fields);
          const table = new StringTable(slots);
          // Twice through the same table, once as a Buffer and once as a Uint8Array: the second
          // pass is served from the table where it can be.
          for (const asBuffer of [bufferFirst, !bufferFirst]) {
            const body = asBuffer ? Buffer.from(bytes) : new Uint8Array(bytes);
            const ours = protobuf.Reader.create(body);
            const theirs = protobuf.Reader.create(body);
            for (let i = 0; i < fields.length; i++) {
              expect(table.read(ours)).toBe(theirs.string());
              expect(ours.pos).toBe(theirs.pos);
            }
          }
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('throws as Reader.string does on a truncated field', () => {
    const body = Buffer.from(encode([Buffer.from('db.system.name')]).subarray(0, 6));
    expect(() => new StringTable(8).read(protobuf.Reader.create(body))).toThrow(RangeError);
    expect(() => protobuf.Reader.create(body).string()).toThrow(RangeError);
  });
});
