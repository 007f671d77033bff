// Cold detector state: the states of an entity that has been idle for a checkpoint interval, packed
// into one binary string. At 100,000 identities that each act a few times a day, nearly every
// identity is idle at any moment, and its states as live objects cost V8 far more than their data:
// an object and a typed array per detector (~230 bytes of bookkeeping each) around payloads of
// 50–130 bytes. Packed, an entity costs one one-byte string (16 bytes of header) plus its data.
//
// The format is private to this process (shape ids are assigned as met): it is never persisted —
// checkpoints keep using checkpoint.ts. It holds the values values.ts allows, and refuses the rest
// as checkpoint.ts does. Values: tagged, integers as zigzag varints, typed arrays' bytes with runs
// of zeros collapsed (rings of idle hours are mostly zeros), plain objects as a shape id (their key
// list, kept once per runtime) followed by their values.
import { Kind, kindOf, setField, type StateTypedArray, TYPED_ARRAYS } from './values.js';

const Tag = {
  Undefined: 0,
  Null: 1,
  False: 2,
  True: 3,
  Int: 4,
  Float: 5,
  String: 6,
  Typed: 7,
  Array: 8,
  Map: 9,
  Set: 10,
  Object: 11,
  NullObject: 12,
} as const;

/** A Uint8Array's kind: its bytes are packed as they are, without a view made over them. */
const UINT8 = Kind.Typed + TYPED_ARRAYS.findIndex((t) => t.type === Uint8Array);

/** Key lists of the plain objects met so far; a packed object refers to its list by index. */
export interface Shapes {
  readonly lists: string[][];
  /** Ids of the lists by their first key ('' for none): a lookup compares keys, builds no string. */
  readonly byFirstKey: Map<string, number[]>;
}

export function createShapes(): Shapes {
  return { lists: [], byFirstKey: new Map() };
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function shapeId(shapes: Shapes, keys: string[]): number {
  const first = keys[0] ?? '';
  let ids = shapes.byFirstKey.get(first);
  if (ids === undefined) {
    ids = [];
    shapes.byFirstKey.set(first, ids);
  }
  for (const id of ids) if (sameKeys(shapes.lists[id]!, keys)) return id;
  const id = shapes.lists.length;
  shapes.lists.push(keys);
  ids.push(id);
  return id;
}

// ---------------------------------------------------------------- writing

/** Scratch for a float's bytes (packing and unpacking are synchronous). */
const FLOAT = new Float64Array(1);
const FLOAT_BYTES = new Uint8Array(FLOAT.buffer);

/** A growable byte buffer, reused across packs (packing is synchronous). */
class Writer {
  bytes = new Uint8Array(4096);
  length = 0;

  reset(): void {
    this.length = 0;
  }

  byte(b: number): void {
    if (this.length === this.bytes.length) {
      const grown = new Uint8Array(this.bytes.length * 2);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    this.bytes[this.length++] = b;
  }

  /** Unsigned integer below 2^53, 7 bits a byte. */
  varint(n: number): void {
    while (n >= 0x80) {
      this.byte((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    this.byte(n);
  }

  float(x: number): void {
    FLOAT[0] = x;
    for (let i = 0; i < 8; i++) this.byte(FLOAT_BYTES[i]!);
  }

  /** Bytes with runs of zeros as (0, run length): a zero byte is always followed by its run. */
  zeroRuns(src: Uint8Array): void {
    this.varint(src.length);
    for (let i = 0; i < src.length; ) {
      if (src[i] !== 0) {
        this.byte(src[i]!);
        i++;
        continue;
      }
      let j = i;
      while (j < src.length && src[j] === 0) j++;
      this.byte(0);
      this.varint(j - i);
      i = j;
    }
  }

  toString(): string {
    return Buffer.from(this.bytes.buffer, 0, this.length).toString('latin1');
  }
}

const writer = new Writer();

function write(w: Writer, shapes: Shapes, v: unknown): void {
  const kind = kindOf(v);
  switch (kind) {
    case Kind.Undefined:
      w.byte(Tag.Undefined);
      return;
    case Kind.Null:
      w.byte(Tag.Null);
      return;
    case Kind.Boolean:
      w.byte(v ? Tag.True : Tag.False);
      return;
    case Kind.Number: {
      const n = v as number;
      // Below 2^52 the zigzag form (2|v| or 2|v| - 1) is still an exact double.
      if (Number.isInteger(n) && Math.abs(n) < 2 ** 52 && !Object.is(n, -0)) {
        w.byte(Tag.Int);
        w.varint(n < 0 ? -2 * n - 1 : 2 * n);
        return;
      }
      w.byte(Tag.Float);
      w.float(n);
      return;
    }
    case Kind.String: {
      const s = v as string;
      w.byte(Tag.String);
      w.varint(s.length);
      for (let i = 0; i < s.length; i++) w.varint(s.charCodeAt(i));
      return;
    }
    case Kind.Array: {
      const a = v as unknown[];
      w.byte(Tag.Array);
      w.varint(a.length);
      for (const x of a) write(w, shapes, x);
      return;
    }
    case Kind.Map:
      w.byte(Tag.Map);
      w.varint((v as Map<unknown, unknown>).size);
      for (const [k, x] of v as Map<unknown, unknown>) {
        write(w, shapes, k);
        write(w, shapes, x);
      }
      return;
    case Kind.Set:
      w.byte(Tag.Set);
      w.varint((v as Set<unknown>).size);
      for (const x of v as Set<unknown>) write(w, shapes, x);
      return;
    case Kind.Object:
    case Kind.NullObject: {
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o);
      w.byte(kind === Kind.Object ? Tag.Object : Tag.NullObject);
      w.varint(shapeId(shapes, keys));
      for (const k of keys) write(w, shapes, o[k]);
      return;
    }
    default: {
      const view = v as StateTypedArray;
      w.byte(Tag.Typed);
      w.byte(kind - Kind.Typed);
      w.zeroRuns(
        kind === UINT8 ? (view as Uint8Array) : new Uint8Array(view.buffer, view.byteOffset, view.byteLength),
      );
    }
  }
}

/**
 * Packs a holder's states (undefined where a detector has none): a presence mask first, so which
 * detectors have state can be told without unpacking.
 */
export function packStates(shapes: Shapes, states: readonly unknown[]): string {
  writer.reset();
  let mask = 0;
  states.forEach((s, i) => {
    if (s !== undefined) mask += 2 ** i;
  });
  writer.varint(mask);
  for (const s of states) if (s !== undefined) write(writer, shapes, s);
  return writer.toString();
}

// ---------------------------------------------------------------- reading

class Reader {
  at = 0;
  constructor(readonly s: string) {}

  byte(): number {
    return this.s.charCodeAt(this.at++);
  }

  varint(): number {
    let n = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 0x80;
    }
  }

  float(): number {
    for (let i = 0; i < 8; i++) FLOAT_BYTES[i] = this.byte();
    return FLOAT[0]!;
  }

  /** Fills `into` (or a new array of the stored length) with the stored bytes. */
  zeroRuns(into: Uint8Array | undefined): Uint8Array {
    const length = this.varint();
    const out = into && into.length === length ? into : new Uint8Array(length);
    for (let i = 0; i < length; ) {
      const b = this.byte();
      if (b !== 0) out[i++] = b;
      else {
        const run = this.varint();
        out.fill(0, i, i + run);
        i += run;
      }
    }
    return out;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Reads one value; `into` is an existing value of the same role to fill in place (see unpackStates). */
function read(r: Reader, shapes: Shapes, into?: unknown): unknown {
  const tag = r.byte();
  switch (tag) {
    case Tag.Undefined:
      return undefined;
    case Tag.Null:
      return null;
    case Tag.False:
      return false;
    case Tag.True:
      return true;
    case Tag.Int: {
      const z = r.varint();
      return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    }
    case Tag.Float:
      return r.float();
    case Tag.String: {
      const n = r.varint();
      const codes = new Array<number>(n);
      for (let i = 0; i < n; i++) codes[i] = r.varint();
      return String.fromCharCode(...codes);
    }
    case Tag.Typed: {
      const ctor = TYPED_ARRAYS[r.byte()]!.type;
      if (ctor === Uint8Array) return r.zeroRuns(into instanceof Uint8Array ? into : undefined);
      const bytes = r.zeroRuns(
        into instanceof ctor ? new Uint8Array(into.buffer, into.byteOffset, into.byteLength) : undefined,
      );
      return into instanceof ctor && (into as StateTypedArray).byteLength === bytes.byteLength
        ? into
        : new ctor(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength / ctor.BYTES_PER_ELEMENT);
    }
    case Tag.Array: {
      const n = r.varint();
      const out = new Array<unknown>(n);
      for (let i = 0; i < n; i++) out[i] = read(r, shapes);
      return out;
    }
    case Tag.Map: {
      const n = r.varint();
      const out = new Map<unknown, unknown>();
      for (let i = 0; i < n; i++) {
        const k = read(r, shapes);
        out.set(k, read(r, shapes));
      }
      return out;
    }
    case Tag.Set: {
      const n = r.varint();
      const out = new Set<unknown>();
      for (let i = 0; i < n; i++) out.add(read(r, shapes));
      return out;
    }
    case Tag.Object:
    case Tag.NullObject: {
      const keys = shapes.lists[r.varint()]!;
      const target = isPlainObject(into)
        ? into
        : tag === Tag.Object
          ? {}
          : (Object.create(null) as Record<string, unknown>);
      for (const k of keys)
        setField(target, k, read(r, shapes, Object.hasOwn(target, k) ? target[k] : undefined));
      return target;
    }
    default:
      throw new Error(`cold state: bad tag ${tag}`);
  }
}

/** Which of the holder's detectors have state in a packed holder. */
export function packedPresence(blob: string): number {
  return new Reader(blob).varint();
}

/**
 * Unpacks a holder's states. `fresh(i)` may give a new state of detector i to fill in place (its
 * initial state, so the object keeps the shape the detector's code was optimised for); without
 * one, plain objects are made.
 */
export function unpackStates(
  shapes: Shapes,
  blob: string,
  count: number,
  fresh?: (i: number) => unknown,
): unknown[] {
  const r = new Reader(blob);
  const mask = r.varint();
  const out = new Array<unknown>(count).fill(undefined);
  for (let i = 0; i < count; i++)
    if (Math.floor(mask / 2 ** i) % 2 === 1) out[i] = read(r, shapes, fresh?.(i));
  return out;
}
