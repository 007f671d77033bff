// What a detector state may hold is defined once (src/detect/state/values.ts). Both codecs give
// back every such value exactly — the checkpoint text, persisted, and the cold format, in process —
// and refuse every other value with the same message, so a state that packs cold also checkpoints.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeState, encodeState } from '../../../../src/detect/state/checkpoint.js';
import { createShapes, packStates, unpackStates } from '../../../../src/detect/state/cold.js';
import { Kind, kindOf, TYPED_ARRAYS } from '../../../../src/detect/state/values.js';

/** One shape table for the whole file, as a runtime keeps one for its lifetime. */
const shapes = createShapes();

const checkpointed = (v: unknown): unknown => decodeState(encodeState(v));
const packed = (v: unknown): unknown => unpackStates(shapes, packStates(shapes, [v]), 1)[0];

function dataObject(entries: ReadonlyArray<readonly [string, unknown]>, nullPrototype: boolean): object {
  const o: Record<string, unknown> = nullPrototype ? Object.create(null) : {};
  for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true });
  return o;
}

/** Every typed array values.ts allows: arbitrary bytes (NaN payloads too), runs of zeros, views at an offset. */
const typedArray = fc.oneof(
  ...TYPED_ARRAYS.map(({ type }) =>
    fc
      .record({ bytes: fc.uint8Array({ maxLength: 48 }), zeros: fc.nat(48), offset: fc.nat(2) })
      .map(({ bytes, zeros, offset }) => {
        const size = type.BYTES_PER_ELEMENT;
        const length = Math.floor(bytes.length / size);
        const buffer = new ArrayBuffer((offset + length) * size);
        const view = new Uint8Array(buffer, offset * size, length * size);
        view.set(bytes.subarray(0, length * size));
        view.fill(0, 0, Math.min(zeros, view.length));
        return new type(buffer, offset * size, length);
      }),
  ),
);

const number = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.maxSafeInteger(),
  fc.constantFrom(-0, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 52, -(2 ** 53)),
);

/** Any UTF-16 code unit, lone surrogates included. */
const string = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 8 }),
);

/** Keys with a meaning elsewhere among them: the prototype's, the checkpoint's tag and value, indices. */
const key = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.constantFrom('__proto__', '$t', 'v', 'constructor', 'toString', '0', '7', ''),
);

const stateValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  leaf: fc.oneof(fc.constantFrom(undefined, null, true, false), number, string, typedArray),
  value: fc.oneof(
    { maxDepth: 4, depthSize: 'small' },
    tie('leaf'),
    fc.array(tie('value'), { maxLength: 4 }),
    fc
      .tuple(
        fc.uniqueArray(fc.tuple(key, tie('value')), { maxLength: 5, selector: ([k]) => k }),
        fc.boolean(),
      )
      .map(([entries, nullPrototype]) => dataObject(entries, nullPrototype)),
    // An object that reads like a checkpoint tag.
    fc
      .tuple(fc.constantFrom('u8', 'undef', 'map', 'num', 'obj', 'nobj', 'zz'), tie('value'))
      .map(([t, v]) => ({ $t: t, v })),
    fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 3 }).map((es) => new Map(es)),
    fc.array(tie('value'), { maxLength: 3 }).map((xs) => new Set(xs)),
  ),
})).value;

/** Where `b` differs from `a` (a path), or undefined when it is the same value, kind by kind. */
function difference(a: unknown, b: unknown, at = '$'): string | undefined {
  if (typeof a !== 'object' || a === null) return Object.is(a, b) ? undefined : at;
  if (typeof b !== 'object' || b === null) return at;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return `${at} (prototype)`;
  if (ArrayBuffer.isView(a)) {
    const bytes = (v: ArrayBufferView) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    return bytes(a).equals(bytes(b as ArrayBufferView)) ? undefined : `${at} (bytes)`;
  }
  if (a instanceof Map || a instanceof Set) {
    // Both codecs keep insertion order, so entries compare in order.
    const as = [...a.entries()];
    const bs = [...(b as typeof a).entries()];
    if (as.length !== bs.length) return `${at} (size)`;
    for (let i = 0; i < as.length; i++)
      for (const side of [0, 1] as const) {
        const d = difference(as[i]![side], bs[i]![side], `${at}.entry(${i}).${side ? 'value' : 'key'}`);
        if (d) return d;
      }
    return undefined;
  }
  const keys = Object.keys(a);
  if (JSON.stringify(keys) !== JSON.stringify(Object.keys(b))) return `${at} (keys)`;
  for (const k of keys) {
    const field = Object.getOwnPropertyDescriptor(b, k);
    if (!field || !('value' in field)) return `${at}[${JSON.stringify(k)}] (not a data field)`;
    const d = difference((a as Record<string, unknown>)[k], field.value, `${at}[${JSON.stringify(k)}]`);
    if (d) return d;
  }
  return undefined;
}

/** Every kind met in a value, containers and what they hold. */
function kindsIn(v: unknown, into: Set<number>): Set<number> {
  const kind = kindOf(v);
  into.add(kind);
  if (kind === Kind.Array || kind === Kind.Set) for (const x of v as Iterable<unknown>) kindsIn(x, into);
  if (kind === Kind.Map)
    for (const [k, x] of v as Map<unknown, unknown>) {
      kindsIn(k, into);
      kindsIn(x, into);
    }
  if (kind === Kind.Object || kind === Kind.NullObject)
    for (const x of Object.values(v as object)) kindsIn(x, into);
  return into;
}

/** What a codec does with a value: the error it refuses it with, or 'accepted'. */
function outcome(codec: (v: unknown) => unknown, v: unknown): string {
  try {
    codec(v);
    return 'accepted';
  } catch (err) {
    return `${(err as Error).name}: ${(err as Error).message}`;
  }
}

class Sample {
  at = 1;
}

/** Values no state may hold, with the name the refusal gives them. */
const REFUSED: ReadonlyArray<readonly [string, () => unknown]> = [
  ['Date', () => new Date(0)],
  ['Sample', () => new Sample()],
  ['function', () => () => 1],
  ['symbol', () => Symbol('s')],
  ['bigint', () => 1n],
  ['DataView', () => new DataView(new ArrayBuffer(4))],
  ['BigInt64Array', () => new BigInt64Array(2)],
  ['BigUint64Array', () => new BigUint64Array(2)],
  ['ArrayBuffer', () => new ArrayBuffer(4)],
  ['RegExp', () => /x/],
  ['Number', () => Object(1)],
  ['WeakMap', () => new WeakMap()],
  // Subclasses of allowed kinds: each codec would give back the base class.
  ['Bytes', () => new (class Bytes extends Uint8Array {})(2)],
  ['Counts', () => new (class Counts extends Map {})()],
  ['List', () => new (class List extends Array {})()],
];

/** A refused value somewhere inside an allowed one: a field, an element, a Map key or value, a Set member. */
const wrapped = (bad: unknown): fc.Arbitrary<unknown> =>
  fc
    .array(fc.tuple(fc.constantFrom('field', 'element', 'key', 'value', 'member'), stateValue), {
      maxLength: 3,
    })
    .map((wrappers) =>
      wrappers.reduce<unknown>((inner, [where, sibling]) => {
        if (where === 'field') return { a: sibling, bad: inner };
        if (where === 'element') return [sibling, inner];
        if (where === 'key') return new Map([[inner, sibling]]);
        if (where === 'value') return new Map([['k', inner]]);
        return new Set([sibling, inner]);
      }, bad),
    );

/**
 * The checkpoint format's definition (src/detect/state/checkpoint.ts, header): the JSON of a tree
 * where each value JSON cannot say is a tagged object. The encoder writes the text directly; it
 * must be this, byte for byte (the text is persisted).
 */
function taggedTree(v: unknown): unknown {
  if (v === undefined) return { $t: 'undef', v: null };
  if (typeof v === 'number')
    return Number.isFinite(v) && !Object.is(v, -0)
      ? v
      : { $t: 'num', v: Object.is(v, -0) ? '-0' : String(v) };
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return Array.from(v, taggedTree);
  if (v instanceof Map) return { $t: 'map', v: [...v].map(([k, x]) => [taggedTree(k), taggedTree(x)]) };
  if (v instanceof Set) return { $t: 'set', v: [...v].map(taggedTree) };
  if (ArrayBuffer.isView(v)) {
    const tag = TYPED_ARRAYS.find((t) => Object.getPrototypeOf(v) === t.type.prototype)!.tag;
    return { $t: tag, v: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  }
  const fields: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v))
    Object.defineProperty(fields, k, {
      value: taggedTree(x),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  if (Object.getPrototypeOf(v) === null) return { $t: 'nobj', v: fields };
  const tagLike =
    typeof fields.$t === 'string' && Object.hasOwn(fields, 'v') && Object.keys(fields).length === 2;
  return tagLike ? { $t: 'obj', v: fields } : fields;
}

describe('the values a detector state may hold', () => {
  it('are written to a checkpoint as the JSON of their tagged tree, byte for byte', () => {
    fc.assert(
      fc.property(stateValue, (v) => {
        expect(encodeState(v)).toBe(JSON.stringify(taggedTree(v)));
      }),
      { numRuns: 2_000 },
    );
  });

  it('are generated here kind by kind, every typed array of values.ts included', () => {
    const met = new Set<number>();
    for (const v of fc.sample(stateValue, 3_000)) kindsIn(v, met);
    const all = [
      ...Object.values(Kind).filter((k) => k < Kind.Typed),
      ...TYPED_ARRAYS.map((_, i) => Kind.Typed + i),
    ];
    expect([...met].sort((a, b) => a - b)).toEqual(all.sort((a, b) => a - b));
  });

  it('come back the same from a checkpoint and from the cold format', () => {
    fc.assert(
      fc.property(stateValue, (v) => {
        expect(difference(v, checkpointed(v))).toBeUndefined();
        expect(difference(v, packed(v))).toBeUndefined();
      }),
      { numRuns: 500 },
    );
  });

  it('keep -0, NaN, undefined fields, a __proto__ key as data and a tag look-alike as an object', () => {
    const v = dataObject(
      [
        ['z', -0],
        ['n', Number.NaN],
        ['u', undefined],
        ['__proto__', { polluted: true }],
        ['o', { $t: 'u8', v: 'AAA=' }],
        ['d', dataObject([['constructor', 1]], true)],
        ['t', new Int16Array([-2, 3])],
      ],
      false,
    );
    for (const back of [checkpointed(v), packed(v)]) {
      expect(difference(v, back)).toBeUndefined();
      expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
      expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    }
  });

  it('refuses any other value in both codecs, with the same message naming what it is', () => {
    for (const [name, make] of REFUSED)
      fc.assert(
        fc.property(wrapped(make()), (v) => {
          const checkpoint = outcome(encodeState, v);
          expect(checkpoint).toContain(`StateValueError: detector state cannot hold a ${name} `);
          expect(outcome((x) => packStates(shapes, [x]), v)).toBe(checkpoint);
        }),
        { numRuns: 20 },
      );
  });
});
