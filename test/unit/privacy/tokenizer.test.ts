// The tokenizer: keyed deterministic tokens, a prefix per kind, the raw value never in the token.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ActorType } from '../../../src/model/index.js';
import {
  createTokenizer,
  type IdentifierKind,
  networkOf,
  normalizeIp,
} from '../../../src/privacy/tokenizer.js';

const KEY = { version: 1, secret: Buffer.alloc(32, 7) };
const OTHER_KEY = { version: 1, secret: Buffer.alloc(32, 8) };
const TOKEN_SHAPE = /^[a-z]{2,3}_k\d+_[A-Za-z0-9_-]{22}$/;

describe('createTokenizer().token', () => {
  it('is deterministic for the same kind, tenant and raw value', () => {
    const a = createTokenizer(KEY);
    const b = createTokenizer(KEY);
    const first = a.token('actor', 't1', 'alice@example.com', 'user');
    expect(a.token('actor', 't1', 'alice@example.com', 'user')).toBe(first);
    expect(b.token('actor', 't1', 'alice@example.com', 'user')).toBe(first);
    expect(first).toMatch(TOKEN_SHAPE);
  });

  it.each<[ActorType, string]>([
    ['user', 'usr_'],
    ['service', 'svc_'],
    ['agent', 'agt_'],
    ['unknown', 'unk_'],
  ])('prefixes an actor of type %s with %s', (actorType, prefix) => {
    const t = createTokenizer(KEY).token('actor', 't1', 'principal-1', actorType);
    expect(t.startsWith(prefix)).toBe(true);
  });

  it('prefixes an actor without a type as unknown', () => {
    expect(createTokenizer(KEY).token('actor', 't1', 'principal-1').startsWith('unk_')).toBe(true);
  });

  it.each<[Exclude<IdentifierKind, 'actor'>, string]>([
    ['credential', 'key_'],
    ['src_ip', 'ip_'],
    ['src_net', 'net_'],
    ['session', 'ses_'],
  ])('prefixes %s with %s', (kind, prefix) => {
    const t = createTokenizer(KEY).token(kind, 't1', 'value-1');
    expect(t.startsWith(prefix)).toBe(true);
    expect(t).toMatch(TOKEN_SHAPE);
  });

  it('carries the key version after the prefix', () => {
    expect(createTokenizer(KEY).token('credential', 't1', 'k-1')).toMatch(/^key_k1_/);
    expect(createTokenizer({ version: 7, secret: KEY.secret }).token('credential', 't1', 'k-1')).toMatch(
      /^key_k7_/,
    );
  });

  it('gives the same raw value in two tenants two different tokens', () => {
    const tok = createTokenizer(KEY);
    const a = tok.token('actor', 'tenant-a', 'alice@example.com', 'user');
    const b = tok.token('actor', 'tenant-b', 'alice@example.com', 'user');
    expect(a).not.toBe(b);
  });

  it('gives a different token under a different key', () => {
    const a = createTokenizer(KEY).token('actor', 't1', 'alice@example.com', 'user');
    const b = createTokenizer(OTHER_KEY).token('actor', 't1', 'alice@example.com', 'user');
    expect(a).not.toBe(b);
  });

  it('gives different kinds of the same raw value different hashes', () => {
    const tok = createTokenizer(KEY);
    const key = tok.token('credential', 't1', 'same-raw').slice('key_k1_'.length);
    const ses = tok.token('session', 't1', 'same-raw').slice('ses_k1_'.length);
    expect(key).not.toBe(ses);
  });

  it('keeps the hash part of an actor stable across actor types (only the prefix changes)', () => {
    const tok = createTokenizer(KEY);
    const asUser = tok.token('actor', 't1', 'bob', 'user');
    const asService = tok.token('actor', 't1', 'bob', 'service');
    expect(asUser.slice(4)).toBe(asService.slice(4));
    expect(asUser).not.toBe(asService);
  });

  it('keeps the empty string empty', () => {
    const tok = createTokenizer(KEY);
    expect(tok.token('actor', 't1', '', 'user')).toBe('');
    expect(tok.token('credential', 't1', '')).toBe('');
    expect(tok.stats).toEqual({ hits: 0, misses: 0 });
  });

  it('never contains the raw value (any non-trivial string)', () => {
    const tok = createTokenizer(KEY, { cacheSize: 10 });
    fc.assert(
      fc.property(
        fc.string({ minLength: 6, maxLength: 64 }),
        fc.constantFrom<IdentifierKind>('actor', 'credential', 'src_ip', 'src_net', 'session'),
        (raw, kind) => {
          const t = tok.token(kind, 't1', raw, 'user');
          expect(t).toMatch(TOKEN_SHAPE);
          expect(t.includes(raw)).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('maps distinct raw values to distinct tokens', () => {
    const tok = createTokenizer(KEY);
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (a, b) => {
        fc.pre(a !== b);
        expect(tok.token('credential', 't1', a)).not.toBe(tok.token('credential', 't1', b));
      }),
      { numRuns: 200 },
    );
  });

  it('counts cache misses then hits', () => {
    const tok = createTokenizer(KEY);
    tok.token('actor', 't1', 'alice', 'user');
    expect(tok.stats).toEqual({ hits: 0, misses: 1 });
    tok.token('actor', 't1', 'alice', 'user');
    tok.token('actor', 't1', 'alice', 'user');
    expect(tok.stats).toEqual({ hits: 2, misses: 1 });
    tok.token('actor', 't2', 'alice', 'user');
    expect(tok.stats).toEqual({ hits: 2, misses: 2 });
  });

  it('returns the same token after eviction from a tiny cache', () => {
    const tok = createTokenizer(KEY, { cacheSize: 1 });
    const first = tok.token('session', 't1', 's-1');
    tok.token('session', 't1', 's-2');
    expect(tok.token('session', 't1', 's-1')).toBe(first);
    expect(tok.stats.misses).toBe(3);
  });
});

describe('normalizeIp', () => {
  it.each([
    ['10.1.2.3', '10.1.2.3'],
    ['  10.1.2.3  ', '10.1.2.3'],
    ['10.1.2.3:8080', '10.1.2.3'],
    ['[2001:db8::1]:443', '2001:db8::1'],
    ['[2001:DB8::1]', '2001:db8::1'],
    ['2001:DB8::A', '2001:db8::a'],
    ['::ffff:192.168.0.7', '192.168.0.7'],
    ['::FFFF:192.168.0.7', '192.168.0.7'],
    ['[::ffff:192.168.0.7]:80', '192.168.0.7'],
    ['::1', '::1'],
  ])('normalizes %j to %j', (raw, expected) => {
    expect(normalizeIp(raw)).toBe(expected);
  });

  it.each([
    '',
    'not-an-ip',
    '999.1.2.3',
    '10.1.2',
    'alice@example.com',
    '10.1.2.3:abc',
    '[]',
    'http://10.1.2.3/',
  ])('turns garbage %j into the empty string', (raw) => {
    expect(normalizeIp(raw)).toBe('');
  });
});

describe('networkOf', () => {
  it('takes the /24 of an IPv4 address', () => {
    expect(networkOf('10.1.2.3')).toBe('10.1.2.0/24');
    expect(networkOf('192.168.255.254')).toBe('192.168.255.0/24');
  });

  it('takes the /48 of an IPv6 address, expanded and without leading zeros', () => {
    expect(networkOf('2001:db8:abcd:12::1')).toBe('2001:db8:abcd::/48');
    expect(networkOf('2001:0db8:00ab:0012::1')).toBe('2001:db8:ab::/48');
    expect(networkOf('2001:db8::1')).toBe('2001:db8:0::/48');
    expect(networkOf('::1')).toBe('0:0:0::/48');
  });

  it('gives two addresses of one /24 the same network and a neighbour another', () => {
    expect(networkOf('10.1.2.3')).toBe(networkOf('10.1.2.200'));
    expect(networkOf('10.1.2.3')).not.toBe(networkOf('10.1.3.3'));
  });
});

describe('createTokenizer().address', () => {
  it('gives an ip_ token and a net_ token of the /24', () => {
    const tok = createTokenizer(KEY);
    const a = tok.address('t1', '10.1.2.3:5555');
    expect(a.src_ip).toBe(tok.token('src_ip', 't1', '10.1.2.3'));
    expect(a.src_net).toBe(tok.token('src_net', 't1', '10.1.2.0/24'));
    expect(a.src_ip.startsWith('ip_k1_')).toBe(true);
    expect(a.src_net.startsWith('net_k1_')).toBe(true);
  });

  it('gives neighbours the same network token and different address tokens', () => {
    const tok = createTokenizer(KEY);
    const a = tok.address('t1', '10.1.2.3');
    const b = tok.address('t1', '10.1.2.4');
    expect(a.src_net).toBe(b.src_net);
    expect(a.src_ip).not.toBe(b.src_ip);
  });

  it('treats an IPv4-mapped IPv6 address as the IPv4 address', () => {
    const tok = createTokenizer(KEY);
    expect(tok.address('t1', '::ffff:10.1.2.3')).toEqual(tok.address('t1', '10.1.2.3'));
  });

  it('gives empty tokens for an absent or unparseable address', () => {
    const tok = createTokenizer(KEY);
    expect(tok.address('t1', '')).toEqual({ src_ip: '', src_net: '' });
    expect(tok.address('t1', 'garbage')).toEqual({ src_ip: '', src_net: '' });
  });
});
