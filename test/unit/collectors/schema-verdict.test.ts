// The "certainly invalid" verdicts compiled from the collectors' zod schemas (schema-verdict.ts)
// must never refuse what zod accepts (else a valid event past the listed rejections would be
// lost), and for the generic and Teleport schemas they must refuse everything zod refuses (else a
// hostile body of invalid items would cost zod's slow path again). Checked on values generated
// around every field's limits, types swapped, fields dropped and unknown ones added.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { genericEventRejects, genericEventSchema } from '../../../src/collectors/generic/generic.schema.js';
import { compileRejects } from '../../../src/collectors/schema-verdict.js';
import {
  teleportEventRejects,
  teleportEventSchema,
} from '../../../src/collectors/teleport/teleport.schema.js';
import { makeGenericEvent } from '../../helpers/factories.js';
import { makeTeleportAppRequest, makeTeleportQuery } from '../../helpers/gateway-fixtures.js';

/** Values that sit on a limit of one of the schemas, or break a type. */
const EDGES: unknown[] = [
  undefined,
  null,
  '',
  'x',
  'bad tenant',
  't-1.a:b_c',
  ...[16, 32, 64, 128, 256, 512, 1024, 8192, 16_384, 65_536].flatMap((n) => [
    'a'.repeat(n),
    'a'.repeat(n + 1),
  ]),
  0,
  -0,
  -1,
  0.5,
  1.5,
  2,
  86_400_000,
  86_400_001,
  1_000_000,
  1_000_001,
  -1_000_001,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 2,
  Number.POSITIVE_INFINITY,
  true,
  false,
  [],
  ['a', 'b'],
  ['a', 1],
  {},
  { a: 'b' },
  { a: 1, b: true },
  { a: null },
  { a: {} },
  JSON.parse('{"__proto__": "x"}'),
  { ['k'.repeat(129)]: 'v' },
  { k: 'v'.repeat(1025) },
  'user',
  'service',
  'agent',
  'allowed',
  'denied',
  'db.session.query',
  'app.session.request',
];

/** A valid event with some fields replaced by edge values, some dropped, maybe an unknown one. */
function mutations(base: fc.Arbitrary<Record<string, unknown>>, fields: string[]) {
  return fc
    .tuple(
      base,
      fc.array(fc.tuple(fc.constantFrom(...fields), fc.constantFrom(...EDGES)), { maxLength: 4 }),
      fc.array(fc.constantFrom(...fields), { maxLength: 2 }),
      fc.option(fc.tuple(fc.constantFrom('extra', '__proto__', 'toString'), fc.constantFrom(...EDGES))),
    )
    .map(([start, replace, drop, extra]) => {
      const v: Record<string, unknown> = { ...start };
      for (const [k, x] of replace) v[k] = x;
      for (const k of drop) delete v[k];
      if (extra) Object.defineProperty(v, extra[0], { value: extra[1], enumerable: true, writable: true });
      return v;
    });
}

const junk = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(...EDGES));

function agreesWithZod(
  schema: z.ZodTypeAny,
  rejects: (v: unknown) => boolean,
  values: fc.Arbitrary<unknown>,
) {
  let refused = 0;
  let total = 0;
  fc.assert(
    fc.property(values, (v) => {
      const zodRefuses = !schema.safeParse(v).success;
      total++;
      if (zodRefuses) refused++;
      expect(rejects(v), JSON.stringify(v)?.slice(0, 300)).toBe(zodRefuses);
    }),
    { numRuns: 4_000 },
  );
  // The generated values exercise both verdicts.
  expect(refused).toBeGreaterThan(total / 10);
  expect(refused).toBeLessThan(total);
}

describe('certainly-invalid verdicts', () => {
  it('agree with zod on the generic event, the user-or-actor refinement included', () => {
    const fields = Object.keys(genericEventSchema._def.schema.shape);
    const base = fc
      .constant(null)
      .map(
        () =>
          makeGenericEvent({ time: new Date(Date.now() - 60_000).toISOString() }) as Record<string, unknown>,
      );
    agreesWithZod(genericEventSchema, genericEventRejects, fc.oneof(mutations(base, fields), junk));
  });

  it('agree with zod on the Teleport event (database and application events)', () => {
    const fields = Object.keys(teleportEventSchema.shape);
    const base = fc
      .boolean()
      .map((db) => (db ? makeTeleportQuery() : makeTeleportAppRequest()) as Record<string, unknown>);
    agreesWithZod(teleportEventSchema, teleportEventRejects, fc.oneof(mutations(base, fields), junk));
  });

  it('never refuse what a schema outside their subset accepts (they judge only what they know)', () => {
    const schema = z.object({
      a: z.string().email(),
      b: z.preprocess((v) => Number(v), z.number().int()),
      c: z.number().multipleOf(3),
      d: z.string().transform((s) => s.length),
      e: z.custom<string>((v) => typeof v === 'string'),
    });
    const rejects = compileRejects(schema);
    fc.assert(
      fc.property(
        fc.record({
          a: fc.oneof(fc.emailAddress(), fc.string()),
          b: fc.oneof(fc.integer().map(String), fc.string()),
          c: fc.integer(),
          d: fc.string(),
          e: fc.oneof(fc.string(), fc.integer()),
        }),
        (v) => {
          if (schema.safeParse(v).success) expect(rejects(v)).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
    expect(rejects({ a: 'x', b: '1', c: 3, d: 5, e: 'x' })).toBe(true); // d: not a string
  });
});
