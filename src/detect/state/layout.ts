// The bytes of a detector's state. A typed array costs ~200 bytes of V8 bookkeeping whatever its
// length, so a detector keeps all its small arrays in ONE Uint8Array. The detector declares what it
// keeps, in order; this module lays the sections out and hands back accessors that know their
// offsets, so no detector writes a byte offset:
//
//   const layout = stateLayout({ seen: recentSet(64), hourly: logRing(hours) });
//   const { seen, hourly } = layout.sections;
//   const buf = layout.alloc();
//   seen.touch(buf, hash16(name), hour);
//
// Section kinds:
// - log rings: the last H active hours of a value, log-quantized to one byte (8 steps per
//   doubling, ~9 % resolution, up to 2^32), with the last peak and its day: volumes are
//   heavy-tailed, and "far above the norm" is a ratio, so robust statistics on log2 are the right
//   scale (detectors/shared/log-band.ts holds those statistics);
// - count rings: the same for small counts stored as they are (capped at 255);
// - bitmaps: distinct counts by linear counting (exact enough for tens, good to ~1,000 at 32 B);
// - recent sets: 16-bit hashes with a 16-bit last-seen stamp, the least recently seen evicted;
// - small sets: a few exact 16-bit hashes;
// - bytes, 16-bit words and 32-bit counters, for a layout of the detector's own (by index).
//
// Sections are laid out in declaration order. A section added later goes last, so the state of an
// older layout converts by padding (`grow`). Checkpoints carry the buffer as it is
// (src/detect/state/checkpoint.ts); idle entities' states are packed with it (cold.ts).

/** Murmur3's finalizer: spreads a hash's bits before it is used as a bitmap position. */
export function mix32(h: number): number {
  let x = h >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

function get16(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8);
}

function set16(b: Uint8Array, i: number, v: number): void {
  b[i] = v & 0xff;
  b[i + 1] = (v >>> 8) & 0xff;
}

// ---------------------------------------------------------------- log scale

/** Quantization steps per doubling. */
export const LOG_STEPS = 8;
const LOG_MAX = 255;

export function logOf(x: number): number {
  return LOG_STEPS * Math.log2(1 + Math.max(0, x));
}

export function unlog(q: number): number {
  return 2 ** (q / LOG_STEPS) - 1;
}

function quantize(value: number): number {
  return Math.min(LOG_MAX, Math.round(logOf(value)));
}

// ---------------------------------------------------------------- rings

/** A ring is [filled, next, peak, peak day (2 bytes), values…]. */
const RING_HEADER = 5;

/** The last `hours` values of something, oldest overwritten first. */
class Ring {
  constructor(
    readonly offset: number,
    readonly hours: number,
  ) {}

  // The header is read as untrusted (a state restored from a checkpoint is bytes): `next` and
  // `filled` are bounded by `hours`, so a ring never reads or writes outside its section.

  protected append(b: Uint8Array, stored: number): void {
    const off = this.offset;
    const next = b[off + 1]! % this.hours;
    b[off + RING_HEADER + next] = stored;
    b[off + 1] = (next + 1) % this.hours;
    b[off] = Math.min(this.hours, b[off]! + 1);
  }

  /** How many values the ring holds. */
  samples(b: Uint8Array): number {
    return Math.min(this.hours, b[this.offset]!);
  }

  /** The values as stored (log-quantized for a log ring), in slot order. */
  values(b: Uint8Array): number[] {
    return Array.from(this.view(b));
  }

  /** The stored values in place (no copy): a view of `b`. */
  view(b: Uint8Array): Uint8Array {
    const start = this.offset + RING_HEADER;
    return b.subarray(start, start + this.samples(b));
  }

  /** The largest stored value (0 when empty). */
  max(b: Uint8Array): number {
    let m = 0;
    for (const v of this.view(b)) m = Math.max(m, v);
    return m;
  }
}

/** A ring of log-quantized values, with the last peak (log-quantized) and the day it was reached. */
export class LogRing extends Ring {
  /** Appends one value in natural units. */
  push(b: Uint8Array, value: number): void {
    this.append(b, quantize(value));
  }

  /** The remembered peak (log-quantized; 0: none) and its day (epoch days). */
  peak(b: Uint8Array): { level: number; day: number } {
    return { level: b[this.offset + 2]!, day: get16(b, this.offset + 3) };
  }

  /** Remembers `value` (natural units) as the peak reached on `day`. */
  setPeak(b: Uint8Array, value: number, day: number): void {
    b[this.offset + 2] = quantize(value);
    set16(b, this.offset + 3, day);
  }
}

/** A ring of small counts stored as they are (capped at 255): log steps would blur 2 vs 3. */
export class CountRing extends Ring {
  push(b: Uint8Array, value: number): void {
    this.append(b, Math.min(255, Math.max(0, Math.round(value))));
  }
}

// ---------------------------------------------------------------- bitmaps (linear counting)

export class Bitmap {
  constructor(
    readonly offset: number,
    readonly bytes: number,
  ) {}

  /** Sets the hash's bit; true when the bit was new (the distinct count may have grown). */
  add(b: Uint8Array, h: number): boolean {
    const bit = mix32(h) % (this.bytes * 8);
    const i = this.offset + (bit >>> 3);
    const mask = 1 << (bit & 7);
    if (b[i]! & mask) return false;
    b[i] = b[i]! | mask;
    return true;
  }

  /** Linear-counting estimate of the distinct values added: m · ln(m / zero bits). */
  estimate(b: Uint8Array): number {
    const m = this.bytes * 8;
    let ones = 0;
    for (let i = this.offset; i < this.offset + this.bytes; i++) {
      let x = b[i]!;
      while (x) {
        ones += x & 1;
        x >>>= 1;
      }
    }
    const zeros = m - ones;
    return zeros === 0 ? m * Math.log(m) : m * Math.log(m / zeros);
  }

  clear(b: Uint8Array): void {
    b.fill(0, this.offset, this.offset + this.bytes);
  }
}

// ---------------------------------------------------------------- recent sets (LRU of hashes)

/** A set of `cap` (16-bit hash, 16-bit last-seen stamp) pairs; hash 0 marks an empty slot. */
export class RecentSet {
  constructor(
    readonly offset: number,
    readonly cap: number,
  ) {}

  /** The slot holding `h`, or -1. */
  find(b: Uint8Array, h: number): number {
    for (let i = 0; i < this.cap; i++) if (get16(b, this.offset + 4 * i) === h) return i;
    return -1;
  }

  has(b: Uint8Array, h: number): boolean {
    return this.find(b, h) >= 0;
  }

  /** The hashes in the set. */
  keys(b: Uint8Array): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.cap; i++) {
      const key = get16(b, this.offset + 4 * i);
      if (key !== 0) out.push(key);
    }
    return out;
  }

  /** The (hash, last-seen stamp) pairs in the set, in slot order. */
  entries(b: Uint8Array): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = 0; i < this.cap; i++) {
      const at = this.offset + 4 * i;
      const key = get16(b, at);
      if (key !== 0) out.push([key, get16(b, at + 2)]);
    }
    return out;
  }

  size(b: Uint8Array): number {
    let n = 0;
    for (let i = 0; i < this.cap; i++) if (get16(b, this.offset + 4 * i) !== 0) n++;
    return n;
  }

  /**
   * Records `h` as seen at `stamp` (a small clock, e.g. hours since the state began, saturating at
   * 65,535); true when it was not in the set. A full set forgets its least recently seen entry.
   */
  touch(b: Uint8Array, h: number, stamp: number): boolean {
    const s = Math.min(0xffff, Math.max(0, stamp));
    let victim = 0;
    let oldest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.cap; i++) {
      const at = this.offset + 4 * i;
      const key = get16(b, at);
      if (key === h) {
        set16(b, at + 2, s);
        return false;
      }
      const seen = key === 0 ? -1 : get16(b, at + 2);
      if (seen < oldest) {
        oldest = seen;
        victim = i;
      }
    }
    set16(b, this.offset + 4 * victim, h);
    set16(b, this.offset + 4 * victim + 2, s);
    return true;
  }

  /**
   * Renames `from` to `to` (a token re-keyed by a tokenization key rotation keeps its history);
   * true when `from` was there.
   */
  rename(b: Uint8Array, from: number, to: number): boolean {
    const i = this.find(b, from);
    if (i < 0) return false;
    set16(b, this.offset + 4 * i, to);
    return true;
  }
}

/** A small exact set of `cap` 16-bit hashes (0 = empty). */
export class SmallSet {
  constructor(
    readonly offset: number,
    readonly cap: number,
  ) {}

  /** `'full'` when `h` is new and there is no room left. */
  add(b: Uint8Array, h: number): 'new' | 'known' | 'full' {
    for (let i = 0; i < this.cap; i++) {
      const key = get16(b, this.offset + 2 * i);
      if (key === h) return 'known';
      if (key === 0) {
        set16(b, this.offset + 2 * i, h);
        return 'new';
      }
    }
    return 'full';
  }

  /** Renames `from` to `to`; true when `from` was there. */
  rename(b: Uint8Array, from: number, to: number): boolean {
    for (let i = 0; i < this.cap; i++) {
      if (get16(b, this.offset + 2 * i) === from) {
        set16(b, this.offset + 2 * i, to);
        return true;
      }
    }
    return false;
  }

  clear(b: Uint8Array): void {
    b.fill(0, this.offset, this.offset + 2 * this.cap);
  }
}

// ---------------------------------------------------------------- plain bytes and words

/** `length` bytes the detector reads and writes by index. */
export class Bytes {
  constructor(
    readonly offset: number,
    readonly length: number,
  ) {}

  get(b: Uint8Array, i: number): number {
    return b[this.offset + i]!;
  }

  set(b: Uint8Array, i: number, v: number): void {
    b[this.offset + i] = v;
  }

  fill(b: Uint8Array, v: number): void {
    b.fill(v, this.offset, this.offset + this.length);
  }

  /** The section's bytes (a view, not a copy). */
  view(b: Uint8Array): Uint8Array {
    return b.subarray(this.offset, this.offset + this.length);
  }
}

/** `length` unsigned 16-bit words (little-endian) the detector reads and writes by index. */
export class Words {
  constructor(
    readonly offset: number,
    readonly length: number,
  ) {}

  get(b: Uint8Array, i: number): number {
    return get16(b, this.offset + 2 * i);
  }

  set(b: Uint8Array, i: number, v: number): void {
    set16(b, this.offset + 2 * i, v);
  }
}

/** `length` unsigned 32-bit counters (little-endian), saturating at 2^32 - 1. */
export class Counters {
  constructor(
    readonly offset: number,
    readonly length: number,
  ) {}

  get(b: Uint8Array, i: number): number {
    const at = this.offset + 4 * i;
    return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
  }

  set(b: Uint8Array, i: number, v: number): void {
    const at = this.offset + 4 * i;
    const x = Math.min(0xffffffff, Math.max(0, v)) >>> 0;
    b[at] = x & 0xff;
    b[at + 1] = (x >>> 8) & 0xff;
    b[at + 2] = (x >>> 16) & 0xff;
    b[at + 3] = x >>> 24;
  }
}

// ---------------------------------------------------------------- declaring a layout

/** A section's size and how to make its accessor once its offset is known. */
export interface SectionSpec<T> {
  readonly bytes: number;
  make(offset: number): T;
}

function spec<T>(bytes: number, make: (offset: number) => T): SectionSpec<T> {
  if (!Number.isInteger(bytes) || bytes < 0) throw new Error(`state layout: bad section size ${bytes}`);
  return { bytes, make };
}

function checkCount(what: string, n: number, max: number): number {
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new Error(`state layout: ${what} must be 1–${max}, got ${n}`);
  return n;
}

/** The last `hours` (1–255) values, log-quantized, with a remembered peak. */
export const logRing = (hours: number) =>
  spec(RING_HEADER + checkCount('ring hours', hours, 255), (o) => new LogRing(o, hours));
/** The last `hours` (1–255) small counts, as they are. */
export const countRing = (hours: number) =>
  spec(RING_HEADER + checkCount('ring hours', hours, 255), (o) => new CountRing(o, hours));
/** A linear-counting bitmap of `bytes` bytes. */
export const bitmap = (bytes: number) => spec(bytes, (o) => new Bitmap(o, bytes));
/** Up to `cap` hashes with their last-seen stamps. */
export const recentSet = (cap: number) => spec(4 * cap, (o) => new RecentSet(o, cap));
/** Up to `cap` exact hashes. */
export const smallSet = (cap: number) => spec(2 * cap, (o) => new SmallSet(o, cap));
export const byteArray = (length: number) => spec(length, (o) => new Bytes(o, length));
export const wordArray = (length: number) => spec(2 * length, (o) => new Words(o, length));
export const counters = (length: number) => spec(4 * length, (o) => new Counters(o, length));

type Sections<S> = { readonly [K in keyof S]: S[K] extends SectionSpec<infer T> ? T : never };

export interface StateLayout<S extends Record<string, SectionSpec<unknown>>> {
  /** Total bytes of a state. */
  readonly bytes: number;
  readonly sections: Sections<S>;
  /** A zeroed state buffer (never from a shared slab: packed states drop their live buffers). */
  alloc(): Uint8Array;
  /** Whether `buf` is a state of this layout. */
  fits(buf: unknown): buf is Uint8Array;
  /** Bytes of the sections declared before `name`: the size of a state from before it was added. */
  bytesBefore(name: keyof S): number;
  /**
   * A state of this layout from `buf` if it is one, or — when `buf` is a state of the older layout
   * that ended just before section `since` — `buf` padded with zeroed later sections. Otherwise
   * undefined (the detector starts the entity anew).
   */
  grow(buf: unknown, since?: keyof S): Uint8Array | undefined;
}

/** Lays out `spec`'s sections in declaration order. */
export function stateLayout<S extends Record<string, SectionSpec<unknown>>>(spec: S): StateLayout<S> {
  let offset = 0;
  const sections: Record<string, unknown> = {};
  const starts = new Map<keyof S, number>();
  for (const [name, section] of Object.entries(spec)) {
    starts.set(name, offset);
    sections[name] = section.make(offset);
    offset += section.bytes;
  }
  const total = offset;
  const bytesBefore = (name: keyof S): number => {
    const at = starts.get(name);
    if (at === undefined) throw new Error(`state layout: no section ${String(name)}`);
    return at;
  };
  const fits = (buf: unknown): buf is Uint8Array => buf instanceof Uint8Array && buf.byteLength === total;
  return {
    bytes: total,
    sections: sections as Sections<S>,
    alloc: () => new Uint8Array(total),
    fits,
    bytesBefore,
    grow(buf, since) {
      if (fits(buf)) return buf;
      if (since === undefined || !(buf instanceof Uint8Array) || buf.byteLength !== bytesBefore(since))
        return undefined;
      const grown = new Uint8Array(total);
      grown.set(buf);
      return grown;
    },
  };
}
