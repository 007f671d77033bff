// Standard Webhooks signatures verified with node:crypto (hoop/signature.ts) agree with the
// standardwebhooks package on every delivery: signed by it, forged, moved to another body, id or
// timestamp, listed among other candidates, under another scheme version.
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { signedWith, webhookKey } from '../../../src/collectors/hoop/signature.js';

const secretOf = (bytes: Uint8Array) => `whsec_${Buffer.from(bytes).toString('base64')}`;

/** The package's verdict on a delivery (its clock is now: timestamps are recent). */
function packageVerdict(secret: string, id: string, ts: string, signatures: string, body: Buffer): boolean {
  try {
    new Webhook(secret).verify(
      body,
      { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': signatures },
      {
        jsonParse: false,
      },
    );
    return true;
  } catch {
    return false;
  }
}

describe('webhook signatures', () => {
  it('agree with the standardwebhooks package, valid and forged', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 48 }),
        fc.uint8Array({ minLength: 16, maxLength: 48 }),
        fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !/[\s,]/.test(s)),
        fc.string({ maxLength: 200 }),
        fc.integer({ min: -200, max: 200 }),
        fc.constantFrom('valid', 'other-secret', 'other-body', 'other-id', 'other-ts', 'v2', 'listed'),
        (key, otherKey, id, text, skew, kind) => {
          const secret = secretOf(key);
          const body = Buffer.from(text);
          const at = new Date(Date.now() + skew * 1000);
          const ts = String(Math.floor(at.getTime() / 1000));
          const signer = new Webhook(kind === 'other-secret' ? secretOf(otherKey) : secret);
          let signatures = signer.sign(
            kind === 'other-id' ? `${id}x` : id,
            kind === 'other-ts' ? new Date(at.getTime() + 1000) : at,
            kind === 'other-body' ? `${text}.` : text,
          );
          if (kind === 'v2') signatures = signatures.replace(/^v1,/, 'v2,');
          if (kind === 'listed')
            signatures = `v1,${randomBytes(32).toString('base64')} ${signatures} v1a,xyz`;
          const ours = signedWith(webhookKey(secret), id, ts, signatures, body);
          expect(ours).toBe(packageVerdict(secret, id, ts, signatures, body));
          expect(ours).toBe(kind === 'valid' || kind === 'listed');
        },
      ),
      { numRuns: 500 },
    );
  });

  it('refuses a secret the package refuses', () => {
    expect(() => webhookKey('whsec_')).toThrow();
    expect(webhookKey(secretOf(Buffer.alloc(24, 1)))).toEqual(Buffer.alloc(24, 1));
  });
});
