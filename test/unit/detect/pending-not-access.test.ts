// A request a gateway holds for review (outcome `pending`) has not run: it is kept as the record
// of the request, but no baseline counts it and no outside sender can claim it.
import { describe, expect, it } from 'vitest';
import { genericEventSchema } from '../../../src/collectors/generic/generic.schema.js';
import { createHistoryAccumulator } from '../../../bench/detect/history-of.js';
import { makeEvent } from '../../helpers/factories.js';

describe('pending requests are not access', () => {
  it('the detectors’ history of an identity skips pending events', () => {
    const now = Date.now();
    const acc = createHistoryAccumulator();
    acc.add(makeEvent({ actor: 'usr_k1_a', time: now - 60_000, operation: 'delete', outcome: 'pending' }));
    expect(acc.historyOf(makeEvent().tenant, 'usr_k1_a', now)).toBeUndefined();
    acc.add(makeEvent({ actor: 'usr_k1_a', time: now - 30_000, operation: 'delete' }));
    expect(acc.historyOf(makeEvent().tenant, 'usr_k1_a', now)).toBeDefined();
  });

  it('a generic sender cannot mark its events pending', () => {
    const r = genericEventSchema.safeParse({ outcome: 'pending' });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues.map((i) => i.path))).toContain('outcome');
  });
});
