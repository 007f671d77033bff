// Seeding a running test vigil with a generated workload, the way the dashboard and ClickHouse
// HTTP tests need it: every event posted, through the detectors, and the responder done with the
// incidents and actions they caused.
import { expect } from 'vitest';
import { waitForDrain } from '../../src/cli/drain.js';
import { summary } from '../../src/store/index.js';
import type { GrafanaQueryContext } from './grafana-macros.js';
import type { TestVigil } from './vigil.js';
import { waitFor } from './wait.js';

export async function seedWorkload(v: TestVigil, tenant: string, events: readonly object[]): Promise<void> {
  for (let i = 0; i < events.length; i += 5_000)
    expect((await v.post(events.slice(i, i + 5_000))).status).toBe(200);
  expect(await waitForDrain(v.app, { detectedAtLeast: events.length, timeoutMs: 60_000 })).toBe(true);
  await waitFor(
    () => summary(v.app.store.client, tenant),
    (s) => s.incidents > 0 && s.actions > 0,
    { what: 'incidents and actions', timeoutMs: 20_000 },
  );
}

/**
 * The dashboards' query context over a seeded three-day workload: it ends on the last Friday
 * evening (up to a week ago), so eleven days back from now cover it; the attacker as the identity.
 */
export function seededQueryContext(v: TestVigil, tenant: string, attacker: string): GrafanaQueryContext {
  const hour = 3_600_000;
  return {
    from: Math.floor(Date.now() / hour) * hour - 11 * 24 * hour,
    to: Date.now() + 60_000,
    intervalMs: hour,
    variables: {
      tenant,
      identity: v.app.tokenizer.token('actor', tenant, attacker, 'user'),
      collection: 'customer_pii',
      datasource: 'vigil-clickhouse',
    },
  };
}
