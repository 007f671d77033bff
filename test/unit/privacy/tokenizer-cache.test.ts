// The tokenizer's cache (a map per prefix and tenant, two generations, address pairs cached by the
// address as sent) against the definition of a token: whatever the sequence of lookups and however
// small the cache, every answer is the HMAC the spec says, a hit or a miss is counted per token
// looked up, and a miss is exactly when the new-token hook runs.
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ActorType } from '../../../src/model/index.js';
import {
  createTokenizer,
  type IdentifierKind,
  networkOf,
  normalizeIp,
} from '../../../src/privacy/tokenizer.js';

const KEY = { version: 3, secret: Buffer.alloc(32, 7) };
const NEXT_KEY = { version: 4, secret: Buffer.alloc(32, 9) };
const PREFIX: Record<string, string> = {
  user: 'usr',
  service: 'svc',
  agent: 'agt',
  unknown: 'unk',
  credential: 'key',
  src_ip: 'ip',
  src_net: 'net',
  session: 'ses',
};

/** A token as defined (no cache): HMAC-SHA256 of kind, tenant and raw value under the key. */
function expected(key: typeof KEY, kind: IdentifierKind, tenant: string, raw: string, actorType?: ActorType) {
  if (raw === '') return '';
  const prefix = kind === 'actor' ? PREFIX[actorType ?? 'unknown'] : PREFIX[kind];
  const digest = createHmac('sha256', key.secret)
    .update(`${kind}\u0000${tenant}\u0000${raw}`)
    .digest('base64url')
    .slice(0, 22);
  return `${prefix}_k${key.version}_${digest}`;
}

function expectedAddress(key: typeof KEY, tenant: string, raw: string) {
  const ip = normalizeIp(raw);
  if (ip === '') return { src_ip: '', src_net: '' };
  return {
    src_ip: expected(key, 'src_ip', tenant, ip),
    src_net: expected(key, 'src_net', tenant, networkOf(ip)),
  };
}

type Op =
  | { op: 'token'; kind: IdentifierKind; tenant: string; raw: string; actorType?: ActorType }
  | { op: 'address'; tenant: string; raw: string }
  | { op: 'rotate' };

// Few distinct values, so lookups repeat (hits) and collide across kinds, tenants and generations.
const tenantArb = fc.constantFrom('t1', 't2', '');
const rawArb = fc.oneof(
  fc.constantFrom('alice', 'bob', '10.1.2.3', 'x', '', ' '),
  fc.string({ maxLength: 6 }),
);
const addressArb = fc.oneof(
  fc.constantFrom(
    '10.1.2.3',
    '10.1.2.4:8080',
    ' 10.1.2.3 ',
    '::ffff:10.1.2.3',
    '[2001:DB8::1]:443',
    '2001:db8::1',
    'garbage',
    '',
    '999.1.2.3',
  ),
  fc.ipV4(),
  fc.ipV6(),
  fc.string({ maxLength: 8 }),
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('token' as const),
      kind: fc.constantFrom<IdentifierKind>('actor', 'credential', 'src_ip', 'src_net', 'session'),
      tenant: tenantArb,
      raw: rawArb,
      actorType: fc.option(fc.constantFrom<ActorType>('user', 'service', 'agent', 'unknown'), {
        nil: undefined,
      }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('address' as const), tenant: tenantArb, raw: addressArb }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'rotate' as const }) },
);

describe('tokenizer cache', () => {
  it('answers every lookup sequence as the uncached definition, for any cache size', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.array(opArb, { maxLength: 60 }), (cacheSize, ops) => {
        const made: string[] = [];
        const tok = createTokenizer(KEY, { cacheSize, onNewToken: (e) => made.push(e.token) });
        let key = KEY;
        let lookups = 0;
        for (const o of ops) {
          const before = made.length;
          const misses = tok.stats.misses;
          if (o.op === 'rotate') {
            tok.rotate(NEXT_KEY);
            key = NEXT_KEY;
          } else if (o.op === 'token') {
            const t = tok.token(o.kind, o.tenant, o.raw, o.actorType);
            expect(t).toBe(expected(key, o.kind, o.tenant, o.raw, o.actorType));
            if (o.raw !== '') lookups++;
          } else {
            const a = tok.address(o.tenant, o.raw);
            expect(a).toEqual(expectedAddress(key, o.tenant, o.raw));
            if (a.src_ip !== '') lookups += 2;
          }
          // The hook runs once per miss, with the token just made.
          expect(made.length - before).toBe(tok.stats.misses - misses);
        }
        expect(tok.stats.hits + tok.stats.misses).toBe(lookups);
      }),
      { numRuns: 1_000 },
    );
  });

  it('keeps what was used within the last half of the cache size (no recomputation)', () => {
    const tok = createTokenizer(KEY, { cacheSize: 8 });
    for (let i = 0; i < 100; i++) {
      // 4 values in rotation fit in half of 8: after the first round, all hits.
      tok.token('session', 't1', `s-${i % 4}`);
    }
    expect(tok.stats).toEqual({ hits: 96, misses: 4 });
  });

  it('holds no more than its size: a value not used for a full cache of others is made again', () => {
    const tok = createTokenizer(KEY, { cacheSize: 4 });
    tok.token('session', 't1', 'first');
    for (let i = 0; i < 4; i++) tok.token('session', 't1', `other-${i}`);
    tok.token('session', 't1', 'first');
    expect(tok.stats).toEqual({ hits: 0, misses: 6 });
  });

  it('counts a cached address as the two token lookups it stands for', () => {
    const tok = createTokenizer(KEY);
    tok.address('t1', '10.1.2.3:5555');
    expect(tok.stats).toEqual({ hits: 0, misses: 2 });
    expect(tok.address('t1', '10.1.2.3:5555')).toEqual(expectedAddress(KEY, 't1', '10.1.2.3'));
    expect(tok.stats).toEqual({ hits: 2, misses: 2 });
    // Another spelling of the same address: parsed again, both tokens found.
    tok.address('t1', '10.1.2.3');
    expect(tok.stats).toEqual({ hits: 4, misses: 2 });
  });

  it('forgets everything on rotation and maps new tokens back to the previous ones', () => {
    const tok = createTokenizer(KEY);
    const before = tok.address('t1', '10.1.2.3');
    tok.rotate(NEXT_KEY);
    const after = tok.address('t1', '10.1.2.3');
    expect(after).toEqual(expectedAddress(NEXT_KEY, 't1', '10.1.2.3'));
    expect(tok.previousOf(after.src_ip)).toBe(before.src_ip);
    expect(tok.previousOf(after.src_net)).toBe(before.src_net);
  });
});
