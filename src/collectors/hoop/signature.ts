// Standard Webhooks (Svix) signatures, verified with node:crypto: HMAC-SHA256 with the secret's
// key over `${id}.${timestamp}.` and the body's bytes, base64, compared in constant time with each
// `v1,<base64>` the sender lists. The standardwebhooks package computes the same HMAC in
// JavaScript (fast-sha256) on a copy of the body as text: ~100 ms per MiB on the event loop, which
// a sender without the secret could make vigil spend on every forged delivery. node:crypto hashes
// the bytes as received, far faster. The package stays the reference: it validates the secrets,
// and test/unit/collectors/hoop-signature.test.ts checks that both agree on every delivery.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/**
 * The HMAC key of a `whsec_…` secret (the base64 after the prefix), as the package reads it.
 * @throws Error when the package refuses the secret
 */
export function webhookKey(secret: string): Buffer {
  new Webhook(secret); // the package's own validation of the secret
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
}

/** True when `signatures` (space-separated `v1,<base64>`) holds the signature of the delivery with `key`. */
export function signedWith(
  key: Buffer,
  id: string,
  timestamp: string,
  signatures: string,
  body: Buffer,
): boolean {
  const expected = Buffer.from(
    createHmac('sha256', key)
      // As the package signs it: the timestamp as a number, without leading zeros.
      .update(`${id}.${Number(timestamp)}.`)
      .update(body)
      .digest('base64'),
  );
  for (const versioned of signatures.split(' ')) {
    const [version, signature] = versioned.split(',');
    if (version !== 'v1' || signature === undefined) continue;
    const candidate = Buffer.from(signature);
    if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) return true;
  }
  return false;
}
