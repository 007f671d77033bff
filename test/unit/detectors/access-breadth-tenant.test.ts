// access-breadth relative to the tenant's collection count (issue 14, item 6): on a tenant of 12
// collections an identity that touches ~3 an hour has a band reaching ~12, so touching every
// collection could never exceed it; the band's top is held to `tenant_share` of the tenant's
// collections once the tenant is known.
import { describe, expect, it } from 'vitest';
import {
  createAccessBreadthDetector,
  tenantRelativeBand,
} from '../../../detectors/access-breadth/access-breadth.detector.js';
import { createTenantCollections } from '../../../detectors/access-breadth/tenant-collections.js';
import { bandOfValues, hash32, type LogBand, logOf } from '../../../detectors/shared/index.js';
import { accessBreadthParamsSchema } from '../../../detectors/access-breadth/access-breadth.params.js';
import { prng } from '../../../src/cli/demo/workload.js';
import { createDetectorRuntime } from '../../../src/detect/runtime.js';
import type { AccessEvent } from '../../../src/model/index.js';
import { testTime } from '../../helpers/clock.js';
import { latestById, makeEvent } from '../../helpers/factories.js';

const HOUR = 3_600_000;
const COLLECTIONS = Array.from({ length: 12 }, (_, i) => `kb_${i}`);
const PEOPLE = Array.from({ length: 8 }, (_, i) => `usr_k1_breadth${String(i).padStart(14, '0')}`);

/** Weekdays 09–17 of `days` days from testTime(0): each person ~3 of the 12 collections an hour. */
function office(days: number, seed: number): AccessEvent[] {
  const rand = prng(seed);
  const out: AccessEvent[] = [];
  for (let d = 0; d < days; d++) {
    if (d % 7 >= 5) continue;
    for (let h = 9; h < 17; h++)
      PEOPLE.forEach((actor, p) => {
        const first = (p + Math.floor(rand() * 3)) % 12;
        for (let i = 0; i < 8; i++)
          out.push(
            makeEvent({
              actor,
              time: testTime(d, h, i * 7),
              collection: COLLECTIONS[(first + (i % 3)) % 12]!,
            }),
          );
      });
  }
  return out;
}

/** PEOPLE[0] touches all 12 collections within 20 minutes on Wednesday of the second week, 11:05. */
const START = testTime(9, 11, 5);
const enumeration = COLLECTIONS.flatMap((c, i) => [
  makeEvent({ actor: PEOPLE[0]!, time: START + i * 100_000, collection: c, operation: 'fetch' }),
]);
const closing = makeEvent({ actor: PEOPLE[0]!, time: START + HOUR, collection: COLLECTIONS[0]! });

function run(params: ReturnType<typeof accessBreadthParamsSchema.parse>) {
  const events = [...office(9, 7), ...enumeration, closing].sort((a, b) => a.time - b.time);
  return createDetectorRuntime([createAccessBreadthDetector(params)]).process(events, START + 2 * HOUR);
}

describe('access-breadth on a tenant of 12 collections', () => {
  it('fires when an identity that touches ~3 an hour touches all 12 within 20 minutes', () => {
    const findings = latestById(run(accessBreadthParamsSchema.parse({})));
    expect(findings).toHaveLength(1);
    const f = findings[0]!;
    expect(f.actor).toBe(PEOPLE[0]);
    expect(f.observed).toBeGreaterThanOrEqual(11);
    expect(f.band_high).toBeLessThanOrEqual(9.5);
    expect(f.features.tenant_collections).toBeGreaterThanOrEqual(11);
    expect(f.sentence).toMatch(/at most 75% of the tenant's 1[12] collections/);
    // Scored by the share of the tenant touched, not only by doublings over the usual (~1 here).
    expect(f.score).toBeGreaterThanOrEqual(0.75);
  });

  it('would not fire with the band the identity history alone gives (tenant_share 1: the bug of the issue)', () => {
    expect(run(accessBreadthParamsSchema.parse({ tenant_share: 1 }))).toEqual([]);
  });

  it('raises nothing for the same office weeks without the enumeration', () => {
    const rt = createDetectorRuntime([createAccessBreadthDetector(accessBreadthParamsSchema.parse({}))]);
    expect(rt.process(office(14, 7), testTime(14))).toEqual([]);
  });
});

describe('tenantRelativeBand', () => {
  const band: LogBand = {
    ...bandOfValues([], { level: 0, day: 0 }, 4, 10, 0),
    center: logOf(3),
    highLog: logOf(14),
    statHighLog: logOf(14),
    high: 14,
  };
  const tenant = { collections: 12, sinceHour: 0 };

  it('holds the top to the share of the tenant once the tenant is past warm-up', () => {
    const b = tenantRelativeBand(band, tenant, 48, 0.75, 24);
    expect(b.high).toBeCloseTo(9, 6);
    expect(b.tenantCollections).toBe(12);
  });

  it('leaves the band alone while the tenant is still being learned, or when it has no count', () => {
    expect(tenantRelativeBand(band, tenant, 10, 0.75, 24)).toBe(band);
    expect(tenantRelativeBand(band, undefined, 48, 0.75, 24)).toBe(band);
  });

  it('never lowers the top below a doubling over the identity usual', () => {
    const broad = { ...band, center: logOf(8), highLog: logOf(20), statHighLog: logOf(20), high: 20 };
    const b = tenantRelativeBand(broad, tenant, 48, 0.75, 24);
    expect(b.high).toBeCloseTo(17, 6);
  });
});

describe('tenant collection counts', () => {
  it('counts distinct collections per tenant and forgets the least recently active beyond the bound', () => {
    const book = createTenantCollections({ maxTenants: 2 });
    for (const c of COLLECTIONS) book.add('a', hash32(c), 5);
    book.add('a', hash32('kb_0'), 6);
    expect(book.of('a')).toEqual({ collections: 12, sinceHour: 5 });
    book.add('b', hash32('x'), 7);
    book.add('c', hash32('y'), 8);
    expect(book.size()).toBe(2);
    expect(book.of('a')).toBeUndefined();
  });
});
