// A document parsed piece by piece along a path (json-frames.ts) is exactly JSON.parse of the
// whole: the same value (members, order, duplicates, `__proto__`) and the same refusals, on
// documents shaped to hit the path, random ones and mutated ones.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Descent, parseFramed } from '../../../src/collectors/json-frames.js';
import { runSliced, runToEnd } from '../../../src/collectors/slices.js';

let items = 0;
const PATH: Descent = {
  members: {
    a: { items: { members: { b: { items: 'whole', onItem: () => void items++ } } } },
    c: { members: { a: { items: 'whole' } } },
  },
};

function framed(text: string): { value: unknown } | { error: true } {
  try {
    return { value: runToEnd(parseFramed(text, PATH)) };
  } catch (err) {
    expect(err).toBeInstanceOf(SyntaxError);
    return { error: true };
  }
}

function reference(text: string): { value: unknown } | { error: true } {
  try {
    return { value: JSON.parse(text) };
  } catch {
    return { error: true };
  }
}

/** Objects whose keys are often those of the path, so that the framing is exercised. */
const shaped: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.jsonValue({ maxDepth: 2 }),
    tie('object'),
    fc.array(tie('value'), { maxLength: 4 }),
  ),
  object: fc
    .array(fc.tuple(fc.constantFrom('a', 'b', 'c', '__proto__', 'x', 'a\u0000'), tie('value')), {
      maxLength: 4,
    })
    .map((entries) => {
      const o: Record<string, unknown> = {};
      for (const [k, v] of entries)
        Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
      return o;
    }),
})).value;

describe('parsing along a path', () => {
  it('builds the value JSON.parse builds, with any whitespace', () => {
    fc.assert(
      fc.property(shaped, fc.constantFrom(undefined, 1, '\t', ' \r\n'), (value, indent) => {
        const text = JSON.stringify(value, null, indent as string | number | undefined);
        expect(framed(text)).toEqual(reference(text));
      }),
      { numRuns: 1_000 },
    );
  });

  it('keeps duplicate keys as JSON.parse does (the last value, the first place) and __proto__ as a member', () => {
    const text = '{"a":[{"b":[1]}],"x":1,"a":[{"b":[2,3]}],"__proto__":{"p":1}}';
    const value = framed(text);
    expect(value).toEqual(reference(text));
    expect(Object.keys((value as { value: object }).value)).toEqual(['a', 'x', '__proto__']);
    expect(Object.getPrototypeOf((value as { value: object }).value)).toBe(Object.prototype);
  });

  it('refuses exactly the documents JSON.parse refuses (mutated and random texts)', () => {
    const alphabet = fc.constantFrom(...'[]{}",:\\ 01-.abc\n'.split(''));
    const mutated = fc.tuple(shaped, fc.nat(), fc.nat(), alphabet).map(([value, at, len, insert]) => {
      const text = JSON.stringify(value);
      const i = at % (text.length + 1);
      return text.slice(0, i) + insert + text.slice(i + (len % 3));
    });
    fc.assert(
      fc.property(
        fc.oneof(mutated, fc.string({ unit: alphabet, maxLength: 40 }), fc.json({ maxDepth: 3 })),
        (text) => {
          const expected = reference(text);
          const got = framed(text);
          if ('error' in expected) expect(got).toEqual({ error: true });
          else expect(got).toEqual(expected);
        },
      ),
      { numRuns: 4_000 },
    );
  });

  it.each([
    '{"a":[{"b":[1}2]}]}',
    '{"a":[{}}{}]}',
    '{"a":[{"b":[1]]]}',
    '{"c":{"a":[1,2}}',
    '{"a":[{"b":1}}',
    '{"a" 1}',
    '{"a":1,}',
    '{"a":[{"b":[]}],"c"}',
    '{"a":[]} x',
    '{"\\u00zz":1}',
  ])('refuses %j as JSON.parse does', (text) => {
    expect(reference(text)).toEqual({ error: true });
    expect(framed(text)).toEqual({ error: true });
  });

  it('announces each item of a framed array before parsing it: a limit stops the walk there', () => {
    items = 0;
    const limit = new Error('limit');
    const capped: Descent = {
      items: 'whole',
      onItem: () => {
        if (++items > 2) throw limit;
      },
    };
    // The third item is broken: the limit is met first, and nothing after it is looked at.
    expect(() => runToEnd(parseFramed('[1, 2, nope, 4', capped))).toThrow(limit);
    items = 0;
    expect(() => runToEnd(parseFramed('[1, nope, 3]', capped))).toThrow(SyntaxError);
  });

  it('pauses between the items of a large array, sliced or not the same value', async () => {
    const text = JSON.stringify({ a: [{ b: Array.from({ length: 5_000 }, (_, i) => ({ i })) }] });
    let pauses = 0;
    const steps = parseFramed(text, PATH);
    let r = steps.next();
    while (!r.done) {
      pauses++;
      r = steps.next();
    }
    expect(pauses).toBeGreaterThan(100);
    expect(r.value).toEqual(JSON.parse(text));
    expect(await runSliced(parseFramed(text, PATH))).toEqual(JSON.parse(text));
  });
});
