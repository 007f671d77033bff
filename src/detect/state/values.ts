// The values a detector state may hold, defined once for both of its codecs: checkpoint.ts (text,
// persisted in ClickHouse) and cold.ts (binary, in this process only). Both classify every value
// with kindOf, so a state that packs cold also checkpoints, and a value neither can give back
// exactly is refused by both, with the same message.
//
// A state holds: undefined, null, booleans, numbers (-0, NaN and ±Infinity included), strings,
// arrays, Map, Set, plain objects (Object.prototype or a null prototype: own enumerable string
// keys, in order; a key named __proto__ is data) and the typed arrays of TYPED_ARRAYS. Anything
// else — Date, class instances (subclasses of the kinds above included), functions, symbols,
// bigints, DataView, BigInt64Array — has no faithful encoding in one codec or the other.

/**
 * The typed arrays a state may hold, with the tag a checkpoint stores for each. Tags are part of
 * the persisted format: add entries, never change a tag. The cold format stores an entry's index
 * (it is never persisted, so the order is free; Uint8Array first, the one detectors use most).
 */
export const TYPED_ARRAYS = [
  { tag: 'u8', type: Uint8Array },
  { tag: 'i8', type: Int8Array },
  { tag: 'u16', type: Uint16Array },
  { tag: 'i16', type: Int16Array },
  { tag: 'u32', type: Uint32Array },
  { tag: 'i32', type: Int32Array },
  { tag: 'f32', type: Float32Array },
  { tag: 'f64', type: Float64Array },
  { tag: 'u8c', type: Uint8ClampedArray },
] as const;

export type TypedArrayEntry = (typeof TYPED_ARRAYS)[number];
export type StateTypedArray = InstanceType<TypedArrayEntry['type']>;

/**
 * What a state value is. A typed array's kind is `Kind.Typed` plus its index in TYPED_ARRAYS, so
 * one classification also says which array it is (see typedArrayOf).
 */
export const Kind = {
  Undefined: 0,
  Null: 1,
  Boolean: 2,
  Number: 3,
  String: 4,
  Array: 5,
  Map: 6,
  Set: 7,
  /** A plain object with Object.prototype. */
  Object: 8,
  /** A plain object with a null prototype (a dictionary: kept so, or its keys could meet Object's). */
  NullObject: 9,
  Typed: 10,
} as const;

export type Kind = number;

const TYPED_PROTOTYPES: readonly object[] = TYPED_ARRAYS.map((t) => t.type.prototype);

/** The TYPED_ARRAYS entry of a typed array's kind. */
export function typedArrayOf(kind: Kind): TypedArrayEntry {
  const entry = TYPED_ARRAYS[kind - Kind.Typed];
  if (entry === undefined) throw new Error(`detector state: kind ${kind} is not a typed array`);
  return entry;
}

/** A value a state may not hold: a detector's bug, the same whichever codec met it first. */
export class StateValueError extends Error {
  override readonly name = 'StateValueError';
}

const ALLOWED = `undefined, null, booleans, numbers, strings, arrays, Map, Set, plain objects, ${TYPED_ARRAYS.map((t) => t.type.name).join(', ')}`;

/** What a refused value is, by type or constructor name: never the value itself. */
function nameOf(v: unknown): string {
  if (typeof v !== 'object' || v === null) return typeof v;
  const proto: unknown = Object.getPrototypeOf(v);
  const ctor =
    proto && typeof proto === 'object' ? Object.getOwnPropertyDescriptor(proto, 'constructor') : undefined;
  const name = typeof ctor?.value === 'function' ? (ctor.value as { name?: unknown }).name : undefined;
  return typeof name === 'string' && name !== '' ? name : 'instance of an unnamed class';
}

function refuse(v: unknown): StateValueError {
  return new StateValueError(`detector state cannot hold a ${nameOf(v)} (it may hold ${ALLOWED})`);
}

/**
 * The kind of a state value; throws StateValueError for a value a state may not hold. Containers
 * are classified by exact prototype, not instanceof: a subclass would come back as its base class.
 */
export function kindOf(v: unknown): Kind {
  switch (typeof v) {
    case 'undefined':
      return Kind.Undefined;
    case 'boolean':
      return Kind.Boolean;
    case 'number':
      return Kind.Number;
    case 'string':
      return Kind.String;
    case 'object': {
      if (v === null) return Kind.Null;
      const proto: unknown = Object.getPrototypeOf(v);
      if (proto === Object.prototype) return Kind.Object;
      if (proto === Array.prototype) return Kind.Array;
      // A loop, not findIndex: this runs for every value packed, and a closure would be allocated.
      for (let i = 0; i < TYPED_PROTOTYPES.length; i++)
        if (proto === TYPED_PROTOTYPES[i]) return Kind.Typed + i;
      if (proto === Map.prototype) return Kind.Map;
      if (proto === Set.prototype) return Kind.Set;
      if (proto === null) return Kind.NullObject;
      throw refuse(v);
    }
    default:
      throw refuse(v);
  }
}

/** Sets an object's field as data: a key named __proto__ stays a field, never the prototype. */
export function setField(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
