// Detector state to text and back, for checkpoints: plain JSON plus the containers detectors use
// to stay compact (typed arrays, Map, Set). Typed arrays travel as base64 of their bytes.

type Tagged = { $t: string; v: unknown };

const TYPED = {
  f32: Float32Array,
  f64: Float64Array,
  u8: Uint8Array,
  u16: Uint16Array,
  u32: Uint32Array,
  i32: Int32Array,
} as const;

function tagOf(value: ArrayBufferView): keyof typeof TYPED | undefined {
  for (const [tag, ctor] of Object.entries(TYPED))
    if (value instanceof ctor) return tag as keyof typeof TYPED;
  return undefined;
}

function encode(value: unknown): unknown {
  if (value === undefined) return { $t: 'undef', v: null };
  if (value === null || typeof value !== 'object') return value;
  if (ArrayBuffer.isView(value)) {
    const tag = value instanceof Uint8Array ? 'u8' : tagOf(value);
    if (!tag) throw new Error('state-codec: unsupported typed array');
    return { $t: tag, v: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  }
  if (value instanceof Map) return { $t: 'map', v: [...value].map(([k, v]) => [encode(k), encode(v)]) };
  if (value instanceof Set) return { $t: 'set', v: [...value].map(encode) };
  if (Array.isArray(value)) return value.map(encode);
  // Own enumerable string keys in order, as Object.entries gives them (a loop: checkpoints encode
  // every changed state, and entries + fromEntries cost several arrays per object).
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(source)) {
    const v = encode(source[k]);
    // A key named __proto__ stays data, never a prototype.
    if (k === '__proto__')
      Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    else out[k] = v;
  }
  return out;
}

function decode(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(decode);
  const tagged = value as Tagged;
  if (typeof tagged.$t === 'string' && 'v' in tagged && Object.keys(tagged).length === 2) {
    if (tagged.$t === 'undef') return undefined;
    if (tagged.$t === 'map')
      return new Map((tagged.v as Array<[unknown, unknown]>).map(([k, v]) => [decode(k), decode(v)]));
    if (tagged.$t === 'set') return new Set((tagged.v as unknown[]).map(decode));
    const ctor = TYPED[tagged.$t as keyof typeof TYPED];
    if (ctor) {
      const bytes = Buffer.from(tagged.v as string, 'base64');
      // Copy into a fresh, aligned buffer of the right length.
      const copy = new Uint8Array(bytes.length);
      copy.set(bytes);
      return new ctor(copy.buffer);
    }
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decode(v)]));
}

export function encodeState(state: unknown): string {
  return JSON.stringify(encode(state));
}

export function decodeState(text: string): unknown {
  return decode(JSON.parse(text));
}
