// A cheap "certainly invalid" verdict compiled from a zod schema. zod is the authority on what a
// collector accepts, but it is slow to refuse: every issue becomes an object with a message, every
// failed union branch a ZodError (~60 µs for `{}` against the generic event, 8× a valid event). A
// hostile body of 50,000 invalid items would cost seconds of CPU in wording reasons nobody reads,
// since an answer lists only the first rejections. So a collector asks zod only for the reasons
// it lists and, past them, asks this verdict: true only when zod would refuse the value.
//
// Sound by construction for the subset of zod it knows (types, optional / nullable / default,
// string and number limits, enums, literals, arrays, records, unions, strict objects); anything
// else it cannot judge counts as "not certainly invalid" and goes to zod as before. A refinement
// is judged by its inner schema only (a refinement can only refuse more). Kept exact for the
// schemas collectors use by test/unit/collectors/schema-verdict.test.ts (same verdict as zod on generated
// values), so that the invalid path costs no more than the valid one.
import type { ZodTypeAny } from 'zod';

/** True only when the schema would refuse `value`. */
export type RejectsCheck = (value: unknown) => boolean;

const never: RejectsCheck = () => false;

interface Check {
  readonly kind: string;
  readonly value?: number;
  readonly inclusive?: boolean;
  readonly regex?: RegExp;
}

/** As zod's getParsedType says 'object': not null, an array, a thenable, a Map, a Set or a Date. */
function isZodObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  if (v instanceof Map || v instanceof Set || v instanceof Date) return false;
  const t = v as { then?: unknown; catch?: unknown };
  return !(typeof t.then === 'function' && typeof t.catch === 'function');
}

export function compileRejects(schema: ZodTypeAny): RejectsCheck {
  const def = schema._def as Record<string, unknown> & { typeName?: string };
  switch (def.typeName) {
    case 'ZodString': {
      const checks = (def.checks as Check[]).map((c): RejectsCheck | undefined => {
        if (c.kind === 'min') return (v) => (v as string).length < c.value!;
        if (c.kind === 'max') return (v) => (v as string).length > c.value!;
        if (c.kind === 'length') return (v) => (v as string).length !== c.value!;
        if (c.kind === 'regex') {
          const re = c.regex!;
          return (v) => {
            re.lastIndex = 0;
            return !re.test(v as string);
          };
        }
        return undefined; // other checks: not judged here
      });
      const known = checks.filter((c): c is RejectsCheck => c !== undefined);
      if (def.coerce) return never;
      return (v) => typeof v !== 'string' || known.some((c) => c(v));
    }
    case 'ZodNumber': {
      if (def.coerce) return never;
      const known = (def.checks as Check[]).flatMap((c): RejectsCheck[] => {
        if (c.kind === 'int') return [(v) => !Number.isInteger(v)];
        if (c.kind === 'finite') return [(v) => !Number.isFinite(v)];
        if (c.kind === 'min')
          return [(v) => (c.inclusive ? (v as number) < c.value! : (v as number) <= c.value!)];
        if (c.kind === 'max')
          return [(v) => (c.inclusive ? (v as number) > c.value! : (v as number) >= c.value!)];
        return [];
      });
      return (v) => typeof v !== 'number' || Number.isNaN(v) || known.some((c) => c(v));
    }
    case 'ZodBoolean':
      return (v) => typeof v !== 'boolean';
    case 'ZodEnum': {
      const values = new Set<unknown>(def.values as string[]);
      return (v) => !values.has(v);
    }
    case 'ZodLiteral': {
      const literal = def.value;
      return (v) => v !== literal;
    }
    case 'ZodOptional': {
      const inner = compileRejects(def.innerType as ZodTypeAny);
      return (v) => v !== undefined && inner(v);
    }
    case 'ZodNullable': {
      const inner = compileRejects(def.innerType as ZodTypeAny);
      return (v) => v !== null && inner(v);
    }
    case 'ZodDefault': {
      // undefined takes the default, which the schema's author made valid.
      const inner = compileRejects(def.innerType as ZodTypeAny);
      return (v) => v !== undefined && inner(v);
    }
    case 'ZodEffects': {
      // A refinement or transform runs on what the inner schema accepted; a preprocess changes
      // the input first, which this cannot follow.
      if ((def.effect as { type: string }).type === 'preprocess') return never;
      return compileRejects(def.schema as ZodTypeAny);
    }
    case 'ZodUnion': {
      const options = (def.options as ZodTypeAny[]).map(compileRejects);
      return (v) => options.every((o) => o(v));
    }
    case 'ZodArray': {
      const item = compileRejects(def.type as ZodTypeAny);
      const len = (k: string) => (def[k] as { value: number } | null)?.value;
      const exact = len('exactLength');
      const min = len('minLength');
      const max = len('maxLength');
      return (v) => {
        if (!Array.isArray(v)) return true;
        if (exact !== undefined && v.length !== exact) return true;
        if (min !== undefined && v.length < min) return true;
        if (max !== undefined && v.length > max) return true;
        for (const x of v) if (item(x)) return true;
        return false;
      };
    }
    case 'ZodRecord': {
      const key = compileRejects(def.keyType as ZodTypeAny);
      const value = compileRejects(def.valueType as ZodTypeAny);
      return (v) => {
        if (!isZodObject(v)) return true;
        for (const k in v) if (key(k) || value(v[k])) return true;
        return false;
      };
    }
    case 'ZodObject': {
      const shape = (def.shape as () => Record<string, ZodTypeAny>)();
      const fields = Object.entries(shape).map(([k, t]) => [k, compileRejects(t)] as const);
      const keys = new Set(Object.keys(shape));
      const catchall = (def.catchall as ZodTypeAny | undefined)?._def?.typeName;
      const strict = def.unknownKeys === 'strict' && (catchall === undefined || catchall === 'ZodNever');
      return (v) => {
        if (!isZodObject(v)) return true;
        for (const [k, rejects] of fields) if (rejects(v[k])) return true;
        if (strict) for (const k in v) if (!keys.has(k)) return true;
        return false;
      };
    }
    default:
      return never;
  }
}
