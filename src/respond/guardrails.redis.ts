// Guardrail state on Redis (distributed mode): every responder process of a deployment shares the
// blast-radius window and the kill switch, so the limit holds across processes and a toggle
// through any admin API stops them all.
import { Redis } from 'ioredis';
import type { GuardrailsConfig, TlsMaterial } from '../config/index.js';
import { RetriableError } from '../model/index.js';
import type { BlastRadius, KillSwitch } from './guardrails.js';

// Atomic in Redis: trim the window, then count and reserve in the same script.
const RESERVE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
if redis.call('ZSCORE', KEYS[1], ARGV[4]) then return {1, redis.call('ZCARD', KEYS[1])} end
local n = redis.call('ZCARD', KEYS[1])
if n >= tonumber(ARGV[3]) and ARGV[5] ~= '1' then return {0, n + 1} end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, n + 1}
`;

export interface RedisGuardrails {
  readonly blastRadius: BlastRadius;
  readonly killSwitch: KillSwitch;
  close(): Promise<void>;
}

export function createRedisGuardrails(opts: {
  redisUrl: string;
  redisTls?: TlsMaterial;
  prefix: string;
  limits: GuardrailsConfig['blast_radius'];
  killSwitchForced: boolean;
}): RedisGuardrails {
  const redis = new Redis(opts.redisUrl, {
    maxRetriesPerRequest: 2,
    lazyConnect: false,
    tls: opts.redisTls && { ...opts.redisTls },
  });
  redis.on('error', () => undefined); // reconnects on its own; callers see the failed commands
  const switchKey = `${opts.prefix}:responder:kill-switch`;
  const wrap = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw new RetriableError(`guardrail state unavailable (${what}): ${(err as Error).message}`);
    }
  };
  return {
    blastRadius: {
      async reserve(tenant, key, now, o = {}) {
        const [allowed, count] = (await wrap('blast radius', () =>
          redis.eval(
            RESERVE,
            1,
            `${opts.prefix}:responder:blast:${tenant}`,
            now,
            opts.limits.window,
            opts.limits.max_containments,
            key,
            o.force ? '1' : '0',
          ),
        )) as [number, number];
        return { allowed: allowed === 1, count, limit: opts.limits.max_containments };
      },
    },
    killSwitch: {
      forced: opts.killSwitchForced,
      async isOn() {
        if (opts.killSwitchForced) return true;
        return (await wrap('kill switch', () => redis.get(switchKey))) === '1';
      },
      async set(on) {
        if (opts.killSwitchForced && !on) return false;
        await wrap('kill switch', () => redis.set(switchKey, on ? '1' : '0'));
        return true;
      },
    },
    async close() {
      redis.disconnect();
    },
  };
}
