// Detector state to text and back, for checkpoints (the detector_state table): JSON, with what JSON
// cannot say as a tagged object `{"$t": tag, "v": ...}`:
//   undef                      undefined (v: null)
//   map, set                   a Map's [key, value] entries, a Set's values
//   u8 i8 u16 i16 u32 i32      typed arrays (values.ts's TYPED_ARRAYS), v the base64 of their bytes
//   f32 f64 u8c
//   num                        a number JSON has no literal for: "-0", "NaN", "Infinity", "-Infinity"
//   nobj                       an object with a null prototype, v its fields
//   obj                        a plain object that would itself read as a tag (keys $t, a string, and v)
// Which values a state may hold is values.ts's to say; this module refuses the rest as cold.ts does.
//
// The text is persisted, so a checkpoint written by any earlier version must decode as it did: add
// tags, never change what one means.
import { Kind, kindOf, setField, TYPED_ARRAYS, type TypedArrayEntry, typedArrayOf } from './values.js';

type Tagged = { $t: string; v: unknown };

/** One object for every undefined: JSON.stringify does not care that it is shared. */
const UNDEFINED: Tagged = { $t: 'undef', v: null };

const TYPED_BY_TAG: ReadonlyMap<string, TypedArrayEntry> = new Map(TYPED_ARRAYS.map((t) => [t.tag, t]));

function encodeNumber(n: number): unknown {
  if (Number.isFinite(n) && !Object.is(n, -0)) return n;
  return { $t: 'num', v: Object.is(n, -0) ? '-0' : String(n) };
}

/**
 * Own enumerable string keys in order, as Object.entries gives them (a loop: checkpoints encode
 * every changed state, and entries + fromEntries cost several arrays per object).
 */
function encodeFields(source: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(source)) setField(out, k, encode(source[k]));
  return out;
}

/** Whether an object reads as a tag: decode's test, and encode's check that a plain object does not. */
function looksTagged(o: Record<string, unknown>): boolean {
  return typeof o.$t === 'string' && Object.hasOwn(o, 'v') && Object.keys(o).length === 2;
}

function encode(value: unknown): unknown {
  const kind = kindOf(value);
  switch (kind) {
    case Kind.Undefined:
      return UNDEFINED;
    case Kind.Null:
    case Kind.Boolean:
    case Kind.String:
      return value;
    case Kind.Number:
      return encodeNumber(value as number);
    case Kind.Array: {
      // A loop, not map: a hole is undefined here, as in the cold format.
      const source = value as unknown[];
      const out = new Array<unknown>(source.length);
      for (let i = 0; i < source.length; i++) out[i] = encode(source[i]);
      return out;
    }
    case Kind.Map:
      return { $t: 'map', v: Array.from(value as Map<unknown, unknown>, ([k, v]) => [encode(k), encode(v)]) };
    case Kind.Set:
      return { $t: 'set', v: Array.from(value as Set<unknown>, encode) };
    case Kind.Object: {
      const out = encodeFields(value as Record<string, unknown>);
      return looksTagged(out) ? { $t: 'obj', v: out } : out;
    }
    case Kind.NullObject:
      return { $t: 'nobj', v: encodeFields(value as Record<string, unknown>) };
    default: {
      const view = value as ArrayBufferView;
      const bytes = Buffer.from(view.buffer, view.byteOffset, view.byteLength);
      return { $t: typedArrayOf(kind).tag, v: bytes.toString('base64') };
    }
  }
}

function isFields(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function decodeFields(
  source: Record<string, unknown>,
  into: Record<string, unknown>,
): Record<string, unknown> {
  for (const k of Object.keys(source)) setField(into, k, decode(source[k]));
  return into;
}

/** The value a tagged object stands for, or `tagged` itself when it is no tag this codec writes. */
function decodeTagged(tagged: Tagged): unknown {
  const { $t: tag, v } = tagged;
  if (tag === 'undef') return undefined;
  if (tag === 'map')
    return new Map((v as Array<[unknown, unknown]>).map(([key, value]) => [decode(key), decode(value)]));
  if (tag === 'set') return new Set((v as unknown[]).map(decode));
  // The tags added later are read only in the form they are written: an object of an older
  // checkpoint that merely looks like one stays the object it was.
  if (tag === 'num' && typeof v === 'string') return Number(v);
  if (tag === 'obj' && isFields(v)) return decodeFields(v, {});
  if (tag === 'nobj' && isFields(v)) return decodeFields(v, Object.create(null) as Record<string, unknown>);
  const typed = TYPED_BY_TAG.get(tag);
  if (typed && typeof v === 'string') {
    const bytes = Buffer.from(v, 'base64');
    // Copy into a fresh, aligned buffer of the right length.
    const copy = new Uint8Array(bytes.length);
    copy.set(bytes);
    return new typed.type(copy.buffer);
  }
  return tagged;
}

function decode(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(decode);
  if (looksTagged(value as Record<string, unknown>)) {
    const decoded = decodeTagged(value as Tagged);
    if (decoded !== value) return decoded;
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decode(v)]));
}

export function encodeState(state: unknown): string {
  return JSON.stringify(encode(state));
}

export function decodeState(text: string): unknown {
  return decode(JSON.parse(text));
}
