// Seeding a running test vigil with a generated workload, the way the dashboard and ClickHouse
// HTTP tests need it: every event posted, through the detectors, and the responder done with the
// incidents and actions they caused.
import { expect } from 'vitest';
import { waitForDrain } from '../../src/cli/drain.js';
import { summary } from '../../src/store/index.js';
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
