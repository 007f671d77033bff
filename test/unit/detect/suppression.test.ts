import { describe, expect, it } from 'vitest';
import { suppressionSchema } from '../../../src/config/pipeline.js';
import { createFindingFilter } from '../../../src/detect/suppression.js';
import { makeFinding } from '../../helpers/factories.js';

const DAY = 86_400_000;

describe('finding suppression and feedback', () => {
  const now = Date.UTC(2026, 10, 10);

  it('suppresses findings matching a rule, with the rule reason, and passes the rest', () => {
    const rule = suppressionSchema.parse({
      detector: 'volume-spike',
      collection: 'reindex_tmp',
      reason: 'nightly re-index',
    });
    const filter = createFindingFilter([rule], 14 * DAY);
    const [hit, miss] = filter.apply(
      [makeFinding({ collection: 'reindex_tmp' }), makeFinding({ collection: 'customer_pii' })],
      now,
    );
    expect(hit!.suppressed).toBe('rule: nightly re-index');
    expect(miss!.suppressed).toBeUndefined();
  });

  it('honours a rule time window', () => {
    const rule = suppressionSchema.parse({
      entity: 'svc_k1_x',
      from: '2026-11-01T00:00:00Z',
      until: '2026-11-02T00:00:00Z',
      reason: 'migration',
    });
    const filter = createFindingFilter([rule], DAY);
    const inside = makeFinding({ entity: 'svc_k1_x', event_time: Date.UTC(2026, 10, 1, 12) });
    const after = makeFinding({ entity: 'svc_k1_x', event_time: Date.UTC(2026, 10, 3) });
    expect(filter.apply([inside, after], now).map((f) => Boolean(f.suppressed))).toEqual([true, false]);
  });

  it('rejects a rule that matches everything', () => {
    expect(suppressionSchema.safeParse({ reason: 'all of it' }).success).toBe(false);
  });

  it('after a false-positive mark, suppresses similar findings of that entity until they are clearly bigger', () => {
    const filter = createFindingFilter([], 14 * DAY);
    const marked = makeFinding({ observed: 200 });
    filter.addFeedback([{ ...marked, label: 'false-positive', time: now }]);
    const similar = makeFinding({
      entity: marked.entity,
      detector: marked.detector,
      tenant: marked.tenant,
      observed: 250,
    });
    const bigger = makeFinding({
      entity: marked.entity,
      detector: marked.detector,
      tenant: marked.tenant,
      observed: 400,
    });
    const other = makeFinding({ entity: 'usr_k1_someone_else', observed: 250 });
    const out = filter.apply([similar, bigger, other], now + DAY);
    expect(out.map((f) => Boolean(f.suppressed))).toEqual([true, false, false]);
    expect(out[0]!.suppressed).toContain('false-positive');
    // The mark expires.
    expect(filter.apply([similar], now + 15 * DAY)[0]!.suppressed).toBeUndefined();
    // A later true-positive mark lifts it.
    filter.addFeedback([{ ...marked, label: 'true-positive', time: now + 2 * DAY }]);
    expect(filter.apply([similar], now + 2 * DAY)[0]!.suppressed).toBeUndefined();
  });
});
