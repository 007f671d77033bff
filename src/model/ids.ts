// Deterministic identifiers: the same input always yields the same id, so redelivery deduplicates.
import { createHash } from 'node:crypto';

/** A 32-hex-character id from the given parts (SHA-256, truncated to 128 bits). */
export function deterministicId(...parts: Array<string | number>): string {
  const h = createHash('sha256');
  for (const p of parts) {
    h.update(String(p));
    h.update('\u0000');
  }
  return h.digest('hex').slice(0, 32);
}
