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

const TYPED_BY_TAG: ReadonlyMap<string, TypedArrayEntry> = new Map(TYPED_ARRAYS.map((t) => [t.tag, t]));

/** Whether an object reads as a tag (decode's test; the encoder wraps a plain object that would). */
function looksTagged(o: Record<string, unknown>): boolean {
  return typeof o.$t === 'string' && Object.hasOwn(o, 'v') && Object.keys(o).length === 2;
}

/** The text of undefined. */
const UNDEFINED_TEXT = '{"$t":"undef","v":null}';

function numberText(n: number): string {
  if (Number.isFinite(n) && !Object.is(n, -0)) return String(n); // JSON's own number text
  return `{"$t":"num","v":"${Object.is(n, -0) ? '-0' : String(n)}"}`;
}

/**
 * An object's own enumerable string keys and encoded values, in Object.keys order, each value read
 * once; whether the fields read as a tag (a string `$t`, a `v`, nothing else), decided on what was
 * read rather than by reading again (a getter runs once).
 */
function fieldsText(source: Record<string, unknown>): { text: string; tagLike: boolean } {
  const keys = Object.keys(source);
  let text = '{';
  let tagString = false;
  let hasV = false;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const v = source[k];
    if (k === '$t') tagString = typeof v === 'string';
    else if (k === 'v') hasV = true;
    if (i > 0) text += ',';
    text += `${JSON.stringify(k)}:${encodeText(v)}`;
  }
  return { text: `${text}}`, tagLike: tagString && hasV && keys.length === 2 };
}

/**
 * A value's checkpoint text, written directly: exactly JSON.stringify of the tagged tree the header
 * describes (the test holds it to that definition), without building the tree — checkpoints encode
 * every changed state, and the tree was as many objects again as the state itself.
 */
function encodeText(value: unknown): string {
  const kind = kindOf(value);
  switch (kind) {
    case Kind.Undefined:
      return UNDEFINED_TEXT;
    case Kind.Null:
      return 'null';
    case Kind.Boolean:
      return value ? 'true' : 'false';
    case Kind.String:
      return JSON.stringify(value);
    case Kind.Number:
      return numberText(value as number);
    case Kind.Array: {
      // A loop, not map: a hole is undefined here, as in the cold format.
      const source = value as unknown[];
      let text = '[';
      for (let i = 0; i < source.length; i++) text += (i > 0 ? ',' : '') + encodeText(source[i]);
      return `${text}]`;
    }
    case Kind.Map: {
      let text = '{"$t":"map","v":[';
      let first = true;
      for (const [k, v] of value as Map<unknown, unknown>) {
        text += `${first ? '' : ','}[${encodeText(k)},${encodeText(v)}]`;
        first = false;
      }
      return `${text}]}`;
    }
    case Kind.Set: {
      let text = '{"$t":"set","v":[';
      let first = true;
      for (const v of value as Set<unknown>) {
        text += (first ? '' : ',') + encodeText(v);
        first = false;
      }
      return `${text}]}`;
    }
    case Kind.Object: {
      const fields = fieldsText(value as Record<string, unknown>);
      return fields.tagLike ? `{"$t":"obj","v":${fields.text}}` : fields.text;
    }
    case Kind.NullObject:
      return `{"$t":"nobj","v":${fieldsText(value as Record<string, unknown>).text}}`;
    default: {
      const view = value as ArrayBufferView;
      const bytes = Buffer.from(view.buffer, view.byteOffset, view.byteLength);
      return `{"$t":"${typedArrayOf(kind).tag}","v":"${bytes.toString('base64')}"}`;
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
  return encodeText(state);
}

export function decodeState(text: string): unknown {
  return decode(JSON.parse(text));
}
