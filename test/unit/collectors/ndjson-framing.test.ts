// Framing a body into items (ndjson.ts): a JSON array framed item by item means exactly what
// JSON.parse of the whole document means (same values, same refusals), the item limit refuses a
// body before any item is parsed, and nesting is bounded with a reason instead of a stack overflow.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HttpError } from '../../../src/collectors/http/body.js';
import {
  type FramedBody,
  frameJsonBody,
  isRejection,
  itemAt,
  type JsonItem,
  MAX_JSON_DEPTH,
  nestsDeeperThan,
  TOO_DEEP_REASON,
  valueNestsDeeperThan,
} from '../../../src/collectors/ndjson.js';
import type { Rejection } from '../../../src/collectors/reasons.js';
import { runSliced, runToEnd } from '../../../src/collectors/slices.js';

const JSON_TYPE = 'application/json';
const NDJSON = 'application/x-ndjson';
const MANY = { maxItems: 1_000_000 };

const frame = (text: string | Buffer, type = JSON_TYPE, limits = MANY): FramedBody =>
  runToEnd(frameJsonBody(Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8'), type, limits));
const items = (framed: FramedBody): Array<JsonItem | Rejection> =>
  Array.from({ length: framed.count }, (_, i) => itemAt(framed, i));

/** What our framing makes of a JSON body: its item values, or the HTTP status it was refused with. */
function ours(text: string): { values: unknown[] } | { status: number } {
  try {
    const all = items(frame(text));
    const rejected = all.filter(isRejection);
    if (rejected.length) return { status: -1 }; // too deep: not generated here
    return { values: all.map((i) => (i as JsonItem).value) };
  } catch (err) {
    if (err instanceof HttpError) return { status: err.status };
    throw err;
  }
}

/** The oracle: JSON.parse of the whole document (after the BOM decodeUtf8 drops). */
function reference(text: string): { values: unknown[] } | { status: number } {
  try {
    const doc: unknown = JSON.parse(text.replace(/^\ufeff/, ''));
    return { values: Array.isArray(doc) ? doc : [doc] };
  } catch {
    return { status: 400 };
  }
}

const httpStatus = (fn: () => unknown): number | undefined => {
  try {
    fn();
  } catch (err) {
    if (err instanceof HttpError) return err.status;
    throw err;
  }
  return undefined;
};

describe('framing a JSON array', () => {
  it('yields the items JSON.parse yields, whatever the whitespace, and re-serializes each', () => {
    fc.assert(
      fc.property(
        fc.array(fc.jsonValue({ maxDepth: 6 }), { maxLength: 12 }),
        fc.constantFrom(undefined, 0, 1, 2, '\t', ' \r\n '),
        (values, indent) => {
          const text = JSON.stringify(values, null, indent as string | number | undefined);
          const all = items(frame(text));
          const parsed = JSON.parse(text) as unknown[];
          expect(all.map((i) => (i as JsonItem).value)).toEqual(parsed);
          expect(all.map((i) => (i as JsonItem).raw)).toEqual(parsed.map((v) => JSON.stringify(v)));
          expect(all.map((i) => i.line)).toEqual(parsed.map((_, n) => n + 1));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('accepts and refuses exactly the documents JSON.parse does (mutated and random bodies)', () => {
    const alphabet = fc.constantFrom(...'[]{}",:\\ 01-.etrufnal\n\t\r'.split(''));
    const mutated = fc
      .tuple(fc.array(fc.jsonValue({ maxDepth: 4 }), { maxLength: 6 }), fc.nat(), fc.nat(), alphabet)
      .map(([values, at, len, insert]) => {
        const text = JSON.stringify(values);
        const i = at % (text.length + 1);
        return text.slice(0, i) + insert + text.slice(i + (len % 3));
      });
    const random = fc.string({ unit: alphabet, maxLength: 40 });
    fc.assert(
      fc.property(fc.oneof(mutated, random, fc.json({ maxDepth: 4 })), (text) => {
        const expected = reference(text);
        const got = ours(text);
        if ('values' in expected) expect(got).toEqual(expected);
        else expect(got).toEqual({ status: 400 });
      }),
      { numRuns: 3_000 },
    );
  });

  it.each([
    ['[1,]', 400],
    ['[,1]', 400],
    ['[1 2]', 400],
    ['[1]]', 400],
    ['[1]x', 400],
    ['[{]}', 400],
    ['[{}}]', 400],
    ['["a\\"]', 400],
    ['[', 400],
    ['', 400],
    ['\u00a0[1]', 400], // not JSON whitespace
  ])('refuses %j whole (%i), as JSON.parse does', (text, status) => {
    expect(reference(text)).toEqual({ status: 400 });
    expect(ours(text)).toEqual({ status });
  });

  it('reads strings with escaped quotes and brackets as strings', () => {
    const values = ['a"],[b', 'c\\', '\\"', '{"x":[1]}', { k: '"]' }];
    expect(ours(JSON.stringify(values))).toEqual({ values });
  });

  it('frames one item for a single document', () => {
    expect(ours(' {"a":[1,{"b":2}]} ')).toEqual({ values: [{ a: [1, { b: 2 }] }] });
    expect(frame('{"a":1}').kind).toBe('document');
  });
});

describe('the item limit', () => {
  it('refuses a body of more items than the limit before parsing any (413)', () => {
    // The last item is no JSON: were it parsed, the answer would be 400.
    const over = `[${'{},'.repeat(10)}nope]`;
    expect(httpStatus(() => frame(over, JSON_TYPE, { maxItems: 10 }))).toBe(413);
    expect(frame(`[${'{},'.repeat(9)}{}]`, JSON_TYPE, { maxItems: 10 }).count).toBe(10);
    const lines = `${'{}\n'.repeat(10)}nope\n`;
    expect(httpStatus(() => frame(lines, NDJSON, { maxItems: 10 }))).toBe(413);
    // Blank lines are no items.
    expect(frame(`${'{}\n\n \r\n'.repeat(10)}`, NDJSON, { maxItems: 10 }).count).toBe(10);
  });

  it('says why, and how to send instead, in the refusal', () => {
    try {
      frame('[1,2,3]', JSON_TYPE, { maxItems: 2 });
      expect.unreachable();
    } catch (err) {
      expect((err as HttpError).message).toMatch(/more than 2 items.*smaller batches/);
    }
  });

  it('frames a million tiny lines without parsing them, pausing on the way', async () => {
    const body = Buffer.from('1\n'.repeat(1_000_000));
    let pauses = 0;
    const steps = frameJsonBody(body, NDJSON, { maxItems: 1_000_000 });
    let r = steps.next();
    while (!r.done) {
      pauses++;
      r = steps.next();
    }
    expect(r.value.count).toBe(1_000_000);
    expect(pauses).toBeGreaterThan(100);
    // Sliced or straight through: the same frame.
    const sliced = await runSliced(frameJsonBody(body, NDJSON, { maxItems: 1_000_000 }));
    expect(sliced.ends).toEqual(r.value.ends);
  });
});

describe('NDJSON lines', () => {
  it('numbers lines as sent, skips blank ones (Unicode spaces too), trims before parsing', () => {
    const text = ['{"a":1}', '', ' \u00a0 ', '\u00a0{"b":2}\r', 'nope', '[1]'].join('\n');
    const all = items(frame(text, NDJSON));
    expect(all).toEqual([
      { line: 1, value: { a: 1 }, raw: '{"a":1}' },
      { line: 4, value: { b: 2 }, raw: '{"b":2}' },
      { line: 5, reason: 'invalid JSON' },
      { line: 6, value: [1], raw: '[1]' },
    ]);
  });
});

describe('nesting', () => {
  const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

  it(`accepts ${MAX_JSON_DEPTH} levels and rejects one more, with the reason`, () => {
    const accepted = (framed: FramedBody) => !isRejection(items(framed)[0]!);
    const tooDeep = [{ line: 1, reason: TOO_DEEP_REASON }];
    // NDJSON: the line is the item.
    expect(accepted(frame(nested(MAX_JSON_DEPTH), NDJSON))).toBe(true);
    expect(items(frame(nested(MAX_JSON_DEPTH + 1), NDJSON))).toEqual(tooDeep);
    // A JSON array: each of its items.
    expect(accepted(frame(`[${nested(MAX_JSON_DEPTH)}]`, JSON_TYPE))).toBe(true);
    expect(items(frame(`[${nested(MAX_JSON_DEPTH + 1)}]`, JSON_TYPE))).toEqual(tooDeep);
  });

  it('rejects [[[…]]] 100,000 deep as an item (no RangeError), on both paths, long lines unparsed', () => {
    const text = nested(100_000);
    expect(items(frame(text, JSON_TYPE))).toEqual([{ line: 1, reason: TOO_DEEP_REASON }]);
    expect(items(frame(text, NDJSON))).toEqual([{ line: 1, reason: TOO_DEEP_REASON }]);
    const objects = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
    expect(items(frame(objects, NDJSON))).toEqual([{ line: 1, reason: TOO_DEEP_REASON }]);
    expect(TOO_DEEP_REASON).toMatch(/nested deeper than 64 levels/);
  });

  it('measures the same depth on the text and on the parsed value', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 0, max: 9 }), (value, max) => {
        const text = JSON.stringify(value);
        expect(nestsDeeperThan(text, 0, text.length, max)).toBe(valueNestsDeeperThan(value, max));
      }),
      { numRuns: 500 },
    );
  });
});
