// Refused credentials (auth-failures.ts): counted per route and reason, logged with the address as
// a token, and an address throttled after `limit` refusals within the window, for the window; the
// memory of addresses bounded.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createAuthFailures, throttleKey } from '../../../src/collectors/auth-failures.js';
import { createMetrics } from '../../../src/telemetry/index.js';

function setup(opts: { limit?: number; windowMs?: number; maxAddresses?: number } = {}) {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  const metrics = createMetrics();
  let now = 1_000_000;
  const failures = createAuthFailures({
    limit: opts.limit ?? 3,
    windowMs: opts.windowMs ?? 60_000,
    maxAddresses: opts.maxAddresses,
    metrics,
    logger,
    tokenizeAddress: (a) => `ip_token_of_${a.length}`,
    now: () => now,
  });
  return { failures, metrics, lines, advance: (ms: number) => (now += ms) };
}

describe('refused credentials', () => {
  it('are counted per route and reason, with fixed words only', () => {
    const { failures, metrics } = setup({ limit: 100 });
    failures.refused('generic', 'invalid_credential', '192.0.2.7');
    failures.refused('generic', 'invalid_credential', '192.0.2.8');
    failures.refused('admin', 'missing_credential', '192.0.2.7');
    failures.refused('hoop', 'invalid_signature', '192.0.2.7');
    expect(metrics.counter('auth_refused')).toBe(4);
    expect(metrics.counter('auth_refused_generic_invalid_credential')).toBe(2);
    expect(metrics.counter('auth_refused_admin_missing_credential')).toBe(1);
    expect(metrics.counter('auth_refused_hoop_invalid_signature')).toBe(1);
    expect(Object.keys(metrics.snapshot()).join(' ')).not.toMatch(/192\.0\.2/);
  });

  it('are logged with the route, the reason and the address as a token, never the raw address', () => {
    const { failures, lines } = setup();
    failures.refused('otlp_grpc', 'wrong_source', '192.0.2.7');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      msg: 'credential refused',
      route: 'otlp_grpc',
      reason: 'wrong_source',
      source: 'ip_token_of_9',
      refusals: 1,
    });
    expect(JSON.stringify(lines)).not.toContain('192.0.2.7');
  });

  it(`throttle an address after the limit within the window, for the window, then let it try again`, () => {
    const { failures, metrics, lines, advance } = setup({ limit: 3, windowMs: 60_000 });
    const a = '198.51.100.4';
    for (let i = 0; i < 2; i++) failures.refused('generic', 'invalid_credential', a);
    expect(failures.retryAfter(a)).toBe(0);
    failures.refused('generic', 'invalid_credential', a);
    expect(failures.retryAfter(a)).toBe(60);
    expect(lines.at(-1)).toMatchObject({
      msg: 'source throttled after repeated refused credentials',
      refusals: 3,
    });
    expect(metrics.counter('auth_throttled_sources')).toBe(1);
    // Another address is not concerned.
    expect(failures.retryAfter('198.51.100.5')).toBe(0);
    advance(45_000);
    expect(failures.retryAfter(a)).toBe(15);
    failures.throttled('generic');
    expect(metrics.counter('auth_throttled_generic')).toBe(1);
    advance(15_000);
    expect(failures.retryAfter(a)).toBe(0);
    // A new window: the count starts again.
    failures.refused('generic', 'invalid_credential', a);
    expect(failures.retryAfter(a)).toBe(0);
  });

  it('count refusals in a window: slow guessing below the limit is never throttled', () => {
    const { failures, advance } = setup({ limit: 3, windowMs: 10_000 });
    for (let i = 0; i < 10; i++) {
      failures.refused('admin', 'invalid_credential', '203.0.113.9');
      advance(5_001); // two refusals per window at most
      expect(failures.retryAfter('203.0.113.9')).toBe(0);
    }
  });

  it('throttle an IPv6 host by its /64 and an IPv4-mapped address as IPv4', () => {
    expect(throttleKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(throttleKey('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(throttleKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(throttleKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(throttleKey(undefined)).toBe('unknown');
    const { failures } = setup({ limit: 2 });
    failures.refused('otlp_http', 'invalid_credential', '2001:db8:1:2::10');
    failures.refused('otlp_http', 'invalid_credential', '2001:db8:1:2::11');
    expect(failures.retryAfter('2001:db8:1:2::99')).toBeGreaterThan(0);
    expect(failures.retryAfter('2001:db8:1:3::10')).toBe(0);
  });

  it('remember a bounded number of addresses', () => {
    const { failures } = setup({ limit: 1, maxAddresses: 100 });
    failures.refused('generic', 'invalid_credential', '192.0.2.1');
    expect(failures.retryAfter('192.0.2.1')).toBeGreaterThan(0);
    for (let i = 0; i < 200; i++)
      failures.refused('generic', 'invalid_credential', `10.0.${i >> 8}.${i & 255}`);
    // Forgotten: the least recently refused address made room.
    expect(failures.retryAfter('192.0.2.1')).toBe(0);
  });
});
