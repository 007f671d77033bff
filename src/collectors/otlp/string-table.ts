// Reading the short strings an OTLP body repeats (attribute keys, most attribute values) without
// making a new string each time. Every span of a batch carries the same ~20 attribute keys and
// mostly the same values; decoding each one (a native call and a new string per field, ~40 per span)
// was a fifth of the collector's OTLP time, and a new key string also had to be hashed again by
// the attribute Map. A table remembers the last string read for each (hash of the) bytes and gives
// the same string back when the bytes match.
import type protobuf from 'protobufjs/minimal.js';

/** Longer strings are read as before: they rarely repeat (query text, paths). */
const MAX_BYTES = 48;

/**
 * A direct-mapped table of recently read strings, by the FNV-1a hash of their bytes. Bounded
 * (`slots` × 48 bytes plus the strings); a colliding string replaces the previous one, so hostile
 * input costs at most a compare and a copy per field.
 */
export class StringTable {
  private readonly mask: number;
  private readonly bytes: Uint8Array;
  private readonly lengths: Int32Array;
  private readonly strings: string[];

  /** @param slots a power of two */
  constructor(slots: number) {
    if (slots <= 0 || (slots & (slots - 1)) !== 0) throw new Error('slots must be a power of two');
    this.mask = slots - 1;
    this.bytes = new Uint8Array(slots * MAX_BYTES);
    this.lengths = new Int32Array(slots).fill(-1);
    this.strings = new Array<string>(slots).fill('');
  }

  /**
   * `r.string()`, the same string for the same bytes. Only ASCII is served from the table (every
   * UTF-8 decoder reads it alike); anything else, malformed UTF-8 included, is read by `r.string()`
   * itself, so nothing depends on which reader (Buffer or Uint8Array) filled the table.
   */
  read(r: protobuf.Reader): string {
    const start = r.pos;
    const len = r.uint32();
    const from = r.pos;
    const to = from + len;
    if (len > MAX_BYTES || to > r.len) {
      r.pos = start;
      return r.string();
    }
    const buf = r.buf;
    // FNV-1a over the length, the first 4 and the last 8 bytes: where strings of one length
    // differ (prefixes, counters, suffixes). A collision costs a miss, never a wrong answer.
    let h = Math.imul(0x811c9dc5 ^ len, 0x01000193);
    const head = Math.min(len, 4);
    for (let i = from; i < from + head; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    for (let i = Math.max(from + head, to - 8); i < to; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    const slot = (h ^ (h >>> 15)) & this.mask;
    const at = slot * MAX_BYTES;
    const table = this.bytes;
    if (this.lengths[slot] === len) {
      // The table holds ASCII only, so equal bytes are ASCII too.
      let i = 0;
      while (i < len && table[at + i] === buf[from + i]) i++;
      if (i === len) {
        r.pos = to;
        return this.strings[slot]!;
      }
    }
    r.pos = start;
    const s = r.string();
    let high = 0;
    for (let i = 0; i < len; i++) {
      const b = buf[from + i]!;
      high |= b;
      table[at + i] = b;
    }
    if (high < 0x80) {
      this.lengths[slot] = len;
      this.strings[slot] = s;
    } else this.lengths[slot] = -1;
    return s;
  }
}
