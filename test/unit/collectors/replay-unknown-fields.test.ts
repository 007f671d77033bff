// A replay (history import) keeps events whose lines carry fields vigil does not know: those fields
// become attributes under the attribute allow-list, bounded, counted, and warned about once per
// name without their values; the HTTP collector's contract stays strict.
import { describe, expect, it } from 'vitest';
import { parseGenericBody } from '../../../src/collectors/generic/server.js';
import { createUnknownFieldPolicy } from '../../../src/collectors/generic/unknown-fields.js';
import { createTokenizer } from '../../../src/privacy/index.js';
import { testTime } from '../../helpers/clock.js';
import { makeGenericEvent } from '../../helpers/factories.js';

const NOW = testTime(0, 12);
const tokenizer = createTokenizer({ version: 1, secret: Buffer.alloc(32, 7) });
const ndjson = (items: unknown[]) => Buffer.from(items.map((i) => JSON.stringify(i)).join('\n'));
const RAW_EMAIL = 'mallory@example.com';

describe('generic events with unknown top-level fields', () => {
  const lines = [
    { ...makeGenericEvent(), sensitivity: 'high', owner_email: RAW_EMAIL },
    { ...makeGenericEvent(), sensitivity: 'low', attributes: { region: 'eu' } },
    makeGenericEvent(),
  ];

  it('are rejected with the field named where no policy is given (the HTTP collector)', () => {
    const r = parseGenericBody(ndjson(lines), 'application/x-ndjson', { tokenizer }, NOW);
    expect(r.events).toHaveLength(1);
    expect(r.rejectedCount).toBe(2);
    expect(r.rejected[0]!.reason).toContain('unknown field(s) sensitivity');
  });

  it('keep the line in a replay; allow-listed fields become attributes, others are left out', () => {
    const warned: string[] = [];
    const unknownFields = createUnknownFieldPolicy({ onFirstSeen: (n) => warned.push(n) });
    const r = parseGenericBody(
      ndjson(lines),
      'application/x-ndjson',
      { tokenizer, unknownFields, attributeAllowList: new Set(['sensitivity', 'region']) },
      NOW,
    );
    expect(r.rejectedCount).toBe(0);
    expect(r.events).toHaveLength(3);
    expect(r.events[0]!.attributes).toEqual({ sensitivity: 'high' });
    expect(r.events[1]!.attributes).toEqual({ sensitivity: 'low', region: 'eu' });
    // Warned once per name, in order of first sight; counted per name.
    expect(warned).toEqual(['sensitivity', 'owner_email']);
    expect(Object.fromEntries(unknownFields.counts.byName)).toEqual({ sensitivity: 2, owner_email: 1 });
    expect(unknownFields.counts).toMatchObject({ kept: 2, dropped: 1, truncated: 0 });
    // The value of a field off the allow-list (a raw identifier here) is nowhere in the result.
    expect(JSON.stringify(r)).not.toContain(RAW_EMAIL);
  });

  it('are bounded: fields past the limit are left out, long values cut, odd names shown as <key>', () => {
    const unknownFields = createUnknownFieldPolicy({ maxFields: 2, maxLength: 8 });
    const allow = new Set(['a', 'b', 'c']);
    const line = { ...makeGenericEvent(), a: 'x'.repeat(20), b: 3, c: true, 'na me!': 'v', nested: { x: 1 } };
    const r = parseGenericBody(
      ndjson([line]),
      'application/x-ndjson',
      { tokenizer, unknownFields, attributeAllowList: allow },
      NOW,
    );
    expect(r.events).toHaveLength(1);
    expect(r.events[0]!.attributes).toEqual({ a: 'xxxxxxxx', b: '3' });
    expect(unknownFields.counts).toMatchObject({ kept: 2, dropped: 3, truncated: 1 });
    expect([...unknownFields.counts.byName.keys()]).toEqual(['a', 'b', 'c', '<key>', 'nested']);
  });

  it('still reject a line for a documented field that is invalid', () => {
    const unknownFields = createUnknownFieldPolicy();
    const r = parseGenericBody(
      ndjson([{ ...makeGenericEvent(), top_k: -1, sensitivity: 'high' }]),
      'application/x-ndjson',
      { tokenizer, unknownFields },
      NOW,
    );
    expect(r.events).toHaveLength(0);
    expect(r.rejected[0]!.reason).toContain('top_k');
  });
});
