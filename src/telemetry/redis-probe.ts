// Readiness probe of Redis (the BullMQ queue and the guardrail state live there): a PING on a
// connection of its own. The queue's own connections retry forever by design (jobs wait in
// Redis), so they cannot say "down"; this one fails fast instead. It is the one Redis client
// outside src/respond: a probe has to talk to what it reports on.
import { Redis } from 'ioredis';
import type { TlsMaterial } from '../config/index.js';

export interface RedisProbe {
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export function createRedisProbe(url: string, tls?: TlsMaterial): RedisProbe {
  const redis = new Redis(url, {
    tls: tls && { ...tls },
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 1_000,
    // Reconnect quickly while down, so the probe turns ready soon after Redis is back.
    retryStrategy: () => 500,
  });
  redis.on('error', () => undefined); // the outcome of ping() is the report
  return {
    async ping() {
      try {
        if (redis.status === 'wait' || redis.status === 'end') await redis.connect();
        return (await redis.ping()) === 'PONG';
      } catch {
        return false;
      }
    },
    async close() {
      redis.disconnect();
    },
  };
}
