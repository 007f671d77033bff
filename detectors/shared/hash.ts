// Small non-cryptographic hashes: detector state remembers collections, networks and actors as
// numbers, never as strings (a token string costs ~60 bytes of heap, its hash 2–4).

/** FNV-1a over UTF-16 code units, 32 bits, never 0 (0 marks an empty slot). */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0 || 1;
}

/** 16-bit fold of a 32-bit hash, never 0. */
export function fold16(h: number): number {
  return ((h >>> 16) ^ h) & 0xffff || 1;
}

/** 16 bits of `hash32`, never 0: within one identity's few dozen entries a clash is ~1 in 2,000. */
export function hash16(s: string): number {
  return fold16(hash32(s));
}
