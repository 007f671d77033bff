// parseGenericBody: NDJSON or a JSON array in, accepted events plus numbered rejections out.
// Nothing valid in a batch is lost because of its neighbours, and nothing thrown but HttpError.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseGenericBody } from '../../../src/collectors/generic/server.js';
import { HttpError } from '../../../src/collectors/http/body.js';
import { TOO_DEEP_REASON } from '../../../src/collectors/ndjson.js';
import { MAX_LISTED_REJECTIONS } from '../../../src/collectors/reasons.js';
import { createTokenizer } from '../../../src/privacy/index.js';
import { makeGenericEvent } from '../../helpers/factories.js';
import { testTime } from '../../helpers/clock.js';

/** The test's clock, on the suite's calendar (the factories place events on it). */
const NOW = testTime(0, 12);
const deps = { tokenizer: createTokenizer({ version: 1, secret: Buffer.alloc(32, 7) }) };
const NDJSON = 'application/x-ndjson';

function ndjson(lines: string[]): Buffer {
  return Buffer.from(lines.join('\n'), 'utf8');
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('parseGenericBody: NDJSON', () => {
  it('keeps good lines and numbers the bad ones (1-based), skipping blank lines', () => {
    const good1 = makeGenericEvent({ id: 'a' });
    const good2 = makeGenericEvent({ id: 'b' });
    const body = ndjson([
      JSON.stringify(good1), // 1
      '', // 2 (blank)
      '{"tenant": "acme", "user": "alice@example.com"', // 3 (invalid JSON)
      '   ', // 4 (blank)
      JSON.stringify({ ...makeGenericEvent(), actor_type: 'carol@example.com' }), // 5 (invalid event)
      JSON.stringify(good2), // 6
      '', // trailing newline
    ]);
    const { events, rejected } = parseGenericBody(body, NDJSON, deps, NOW);
    expect(events.map((e) => e.operation_raw)).toEqual(['search', 'search']);
    expect(events).toHaveLength(2);
    expect(rejected.map((r) => r.line)).toEqual([3, 5]);
    expect(rejected[0]!.reason).toBe('invalid JSON');
    expect(rejected[1]!.reason).toMatch(/^actor_type: /);
    const reasons = JSON.stringify(rejected);
    expect(reasons).not.toContain('alice');
    expect(reasons).not.toContain('carol');
  });

  it('accepts CRLF line endings', () => {
    const body = Buffer.from(
      `${JSON.stringify(makeGenericEvent())}\r\n${JSON.stringify(makeGenericEvent())}\r\n`,
    );
    const { events, rejected } = parseGenericBody(body, NDJSON, deps, NOW);
    expect(events).toHaveLength(2);
    expect(rejected).toEqual([]);
  });

  it('treats an unknown content type as NDJSON', () => {
    const { events } = parseGenericBody(ndjson([JSON.stringify(makeGenericEvent())]), '', deps, NOW);
    expect(events).toHaveLength(1);
  });

  it('gives two identical id-less lines the same event_id (redelivery deduplicates)', () => {
    const { id: _drop, ...g } = makeGenericEvent();
    const line = JSON.stringify(g);
    const { events } = parseGenericBody(ndjson([line, line]), NDJSON, deps, NOW);
    expect(events).toHaveLength(2);
    expect(events[0]!.event_id).toBe(events[1]!.event_id);
  });

  it('returns nothing for an empty body', () => {
    expect(parseGenericBody(Buffer.alloc(0), NDJSON, deps, NOW)).toEqual({
      events: [],
      rejected: [],
      rejectedCount: 0,
      tenantRefusedCount: 0,
      expiredCount: 0,
    });
  });
});

describe('parseGenericBody: JSON', () => {
  it('takes a JSON array, numbering rejected items from 1', () => {
    const items = [makeGenericEvent(), { nope: true }, makeGenericEvent(), 42];
    const { events, rejected } = parseGenericBody(
      Buffer.from(JSON.stringify(items)),
      'application/json; charset=utf-8',
      deps,
      NOW,
    );
    expect(events).toHaveLength(2);
    expect(rejected.map((r) => r.line)).toEqual([2, 4]);
    expect(rejected[1]!.reason).toBe('event: expected object, got number');
  });

  it('takes a single JSON object', () => {
    const { events, rejected } = parseGenericBody(
      Buffer.from(JSON.stringify(makeGenericEvent())),
      'application/json',
      deps,
      NOW,
    );
    expect(events).toHaveLength(1);
    expect(rejected).toEqual([]);
  });

  it('answers 400 for a body that is not JSON, without quoting it', () => {
    const err = thrown(() =>
      parseGenericBody(Buffer.from('{"user":"alice@example.com",'), 'application/json', deps, NOW),
    );
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).status).toBe(400);
    expect((err as HttpError).message).not.toContain('alice');
  });
});

describe('parseGenericBody: encoding', () => {
  it('answers 400 for a body that is not valid UTF-8', () => {
    const body = Buffer.concat([
      Buffer.from('{"tenant":"'),
      Buffer.from([0xff, 0xfe, 0xc3]),
      Buffer.from('"}'),
    ]);
    const err = thrown(() => parseGenericBody(body, NDJSON, deps, NOW));
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).status).toBe(400);
    expect((err as HttpError).message).toMatch(/UTF-8/);
  });
});

describe('parseGenericBody: property', () => {
  it('never throws on arbitrary JSON lines and keeps every valid event in the same batch', () => {
    const fieldValue = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.json(),
    );
    const nearlyEvent = fc.record(
      {
        time: fc.oneof(fc.integer(), fc.string(), fc.constant(NOW - 1000)),
        tenant: fc.oneof(fc.string(), fc.constant('acme')),
        user: fc.string(),
        actor_type: fc.oneof(fc.string(), fc.constantFrom('user', 'service', 'agent')),
        system: fc.string(),
        operation: fc.string(),
        returned: fieldValue,
        attributes: fc.dictionary(fc.string(), fieldValue),
        extra: fieldValue,
      },
      { requiredKeys: [] },
    );
    const junkLine = fc.oneof(
      fc.json(),
      fc.string().filter((s) => !s.includes('\n')),
      nearlyEvent.map((o) => JSON.stringify(o)),
    );
    const line = fc.oneof(
      junkLine.map((text) => ({ text, valid: false })),
      fc.constant(null).map(() => ({ text: JSON.stringify(makeGenericEvent()), valid: true })),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 20 }), (lines) => {
        const { events, rejected } = parseGenericBody(ndjson(lines.map((l) => l.text)), NDJSON, deps, NOW);
        const nonBlank = lines.filter((l) => l.text.trim() !== '').length;
        expect(events.length + rejected.length).toBe(nonBlank);
        expect(events.length).toBeGreaterThanOrEqual(lines.filter((l) => l.valid).length);
        for (const r of rejected) {
          expect(r.line).toBeGreaterThanOrEqual(1);
          expect(r.line).toBeLessThanOrEqual(lines.length);
          expect(lines[r.line - 1]!.valid).toBe(false);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('never throws on arbitrary JSON array items', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { maxLength: 10 }), (items) => {
        const withValid = [...items, makeGenericEvent()];
        const { events, rejected } = parseGenericBody(
          Buffer.from(JSON.stringify(withValid)),
          'application/json',
          deps,
          NOW,
        );
        expect(events.length + rejected.length).toBe(withValid.length);
        expect(events.length).toBeGreaterThanOrEqual(1);
      }),
      { numRuns: 200 },
    );
  });
});

describe('parseGenericBody: hostile bodies', () => {
  const recent = () => makeGenericEvent({ time: new Date(Date.now() - 60_000).toISOString() });
  const now = () => Date.now();

  it('lists the first 100 rejections by line and counts every one, keeping the valid events', () => {
    const lines = [
      ...Array.from({ length: 500 }, (_, i) => (i % 2 ? '{}' : '[1]')),
      JSON.stringify(recent()),
      '{"time":1,"tenant":"t","system":"s","operation":"o"}', // no user: zod's slow path, past the list
    ];
    const { events, rejected, rejectedCount } = parseGenericBody(ndjson(lines), NDJSON, deps, now());
    expect(events).toHaveLength(1);
    expect(rejectedCount).toBe(501);
    expect(rejected).toHaveLength(MAX_LISTED_REJECTIONS);
    expect(rejected.map((r) => r.line)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    // Listed rejections are worded by the schema.
    expect(rejected[0]!.reason).toBe('event: expected object, got array');
    expect(rejected[1]!.reason).toMatch(/tenant: is required/);
  });

  it('refuses a body of more items than the limit whole (413) and says why', () => {
    const body = ndjson(Array.from({ length: 11 }, () => '{}'));
    const err = thrown(() => parseGenericBody(body, NDJSON, deps, now(), { maxItems: 10 }));
    expect((err as HttpError).status).toBe(413);
    expect((err as HttpError).message).toMatch(/more than 10 items/);
    const arr = Buffer.from(`[${Array.from({ length: 11 }, () => '{}').join(',')}]`);
    expect(
      (thrown(() => parseGenericBody(arr, 'application/json', deps, now(), { maxItems: 10 })) as HttpError)
        .status,
    ).toBe(413);
  });

  it('answers [[[…]]] 100,000 deep with a rejection naming the depth, not a RangeError', () => {
    const deep = Buffer.from(`${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    for (const type of ['application/json', NDJSON]) {
      const { events, rejected } = parseGenericBody(deep, type, deps, now());
      expect(events).toEqual([]);
      expect(rejected).toEqual([{ line: 1, reason: TOO_DEEP_REASON }]);
    }
  });
});
