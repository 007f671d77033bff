// Unknown top-level fields of a generic event, for history imports (replay / NDJSON files) only:
// exports from other tools carry fields of their own (`sensitivity`, `region`, …), and rejecting a
// month of history line by line for them loses the events. The HTTP collector keeps its strict
// contract; a replay passes this policy and the fields become attributes instead.
//
// Bounded: at most `maxFields` fields an event and `maxLength` characters a value are kept; the
// rest is counted as dropped. Values are never echoed: the warnings name the field, and a name that
// does not look like a field name is reported as <key>. Values then meet the same attribute
// allow-list as the event's own `attributes` map (a value may be a raw identifier, and attributes are
// stored as given): a field not on it is counted, and its value left out.
import { GENERIC_FIELDS } from './generic.schema.js';

/** Field names shown as they are; anything else is data and shown as <key>. */
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
/** Distinct names remembered for warnings and counts (a hostile file cannot grow this). */
const MAX_NAMES = 256;

export interface UnknownFieldCounts {
  /** Unknown fields seen, by (shown) name. */
  readonly byName: Map<string, number>;
  /** Fields kept as attributes (values on the allow-list, within the bounds). */
  kept: number;
  /** Fields left out: past `maxFields`, not a string / number / boolean, or not on the allow-list. */
  dropped: number;
  /** Values cut to `maxLength`. */
  truncated: number;
}

export interface UnknownFieldPolicy {
  /** @defaultValue 16 */
  readonly maxFields: number;
  /** @defaultValue 256 */
  readonly maxLength: number;
  readonly counts: UnknownFieldCounts;
  /** Called once per field name, the first time it is seen (to warn). */
  readonly onFirstSeen?: (name: string) => void;
}

export function createUnknownFieldPolicy(
  options: { maxFields?: number; maxLength?: number; onFirstSeen?: (name: string) => void } = {},
): UnknownFieldPolicy {
  return {
    maxFields: options.maxFields ?? 16,
    maxLength: options.maxLength ?? 256,
    counts: { byName: new Map(), kept: 0, dropped: 0, truncated: 0 },
    onFirstSeen: options.onFirstSeen,
  };
}

/** The name a warning may show. */
export function shownName(name: string): string {
  return FIELD_NAME.test(name) ? name : '<key>';
}

/**
 * Splits `raw` into the documented event (unknown fields removed) and the attributes those fields
 * give; `raw` itself is not changed. Not an object, or no unknown field: `raw` as it is.
 */
export function liftUnknownFields(
  raw: unknown,
  policy: UnknownFieldPolicy,
  allowList: ReadonlySet<string> | undefined,
): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const source = raw as Record<string, unknown>;
  const unknown = Object.keys(source).filter((key) => !GENERIC_FIELDS.has(key));
  if (unknown.length === 0) return raw;
  const known: Record<string, unknown> = {};
  for (const key of Object.keys(source)) if (GENERIC_FIELDS.has(key)) known[key] = source[key];
  const given = source.attributes;
  const attributes: Record<string, unknown> =
    typeof given === 'object' && given !== null && !Array.isArray(given) ? { ...given } : {};
  const c = policy.counts;
  unknown.forEach((key, i) => {
    const name = shownName(key);
    const seen = c.byName.get(name);
    if (seen !== undefined) c.byName.set(name, seen + 1);
    else if (c.byName.size < MAX_NAMES) {
      c.byName.set(name, 1);
      policy.onFirstSeen?.(name);
    }
    const v = source[key];
    const scalar =
      typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
    // The event's own attributes win over a field of the same name.
    if (
      i >= policy.maxFields ||
      !scalar ||
      key in attributes ||
      !allowList?.has(key) ||
      key === '__proto__'
    ) {
      c.dropped++;
      return;
    }
    const text = String(v);
    if (text.length > policy.maxLength) c.truncated++;
    attributes[key] = text.slice(0, policy.maxLength);
    c.kept++;
  });
  if (given !== undefined || Object.keys(attributes).length > 0) known.attributes = attributes;
  return known;
}
