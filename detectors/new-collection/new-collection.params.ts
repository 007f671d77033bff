// new-collection's parameters (its block under `detectors:` in the pipeline YAML) and the
// sensitivity name patterns it starts with.
import { z } from 'zod';
import { duration } from '../../src/config/duration.js';
import { type Sensitivity, sensitivitySchema as sensitivity } from '../../src/config/sensitivity.js';

/**
 * Sensitivity out of the box: a collection whose name has one of these words (see
 * detectors/shared/sensitivity.ts for the matching) is at least this sensitive unless labelled.
 * Replaced whole by `sensitivity_patterns` in the pipeline YAML (`{}` turns them off).
 */
export const DEFAULT_SENSITIVITY_PATTERNS: Readonly<Record<string, Sensitivity>> = Object.freeze({
  secret: 'critical',
  credential: 'critical',
  password: 'critical',
  passwd: 'critical',
  pii: 'high',
  phi: 'high',
  ssn: 'high',
  hr: 'high',
  payroll: 'high',
  salary: 'high',
  salaries: 'high',
  finance: 'high',
  financial: 'high',
  bank: 'high',
  banking: 'high',
  tax: 'high',
  legal: 'high',
  contract: 'high',
  medical: 'high',
  health: 'high',
  patient: 'high',
  employee: 'high',
});

/** A name pattern: one lowercase word of letters and digits. */
const patternWord = z
  .string()
  .regex(/^[a-z0-9]+$/, 'a sensitivity pattern is one lowercase word of letters and digits');

export const newCollectionParamsSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Event time an identity must have been seen before its first accesses count as new. */
    warmup_hours: z.number().int().positive().default(168),
    /** Fire when sensitivity × peer rarity × (own novelty damping) reaches this. */
    min_score: z.number().min(0).max(1).default(0.5),
    /** Collections remembered per identity (least recently used forgotten first). */
    max_known: z.number().int().min(8).max(128).default(32),
    /** Half-life of the identity's own rate of new collections (an explorer is not news). */
    discovery_half_life: duration.default('7d'),
    /** Sensitivity of collections without a label. */
    default_sensitivity: sensitivity.default('medium'),
    /** Sensitivity labels by collection name; a key ending in `*` matches a prefix. */
    collections: z.record(z.string().min(1), z.object({ sensitivity }).strict()).default({}),
    /**
     * Sensitivity of unlabelled collections by a word of their name (`pii: high` makes
     * customer_pii high); of several matching words the most sensitive wins. A label in
     * `collections` comes first.
     * @defaultValue DEFAULT_SENSITIVITY_PATTERNS
     */
    sensitivity_patterns: z.record(patternWord, sensitivity).default({ ...DEFAULT_SENSITIVITY_PATTERNS }),
    /** Peers learned from co-access (default), or identities sharing an event attribute's value. */
    peer_groups: z.enum(['co-access', 'attribute']).default('co-access'),
    /** The attribute naming an identity's group when `peer_groups: attribute` (e.g. team, role). */
    peer_attribute: z.string().min(1).default('team'),
    /** Collections whose co-access a tenant remembers (least recently used forgotten first). */
    max_tenant_collections: z.number().int().min(16).max(1024).default(128),
    /** Attribute peer groups remembered per tenant. */
    max_peer_groups: z.number().int().min(1).max(4096).default(64),
    /** Tenants whose peer tables are kept (least recently active forgotten first). */
    max_tenants: z.number().int().min(1).max(100_000).default(1000),
    /**
     * Whose first accesses are followed up: when an identity keeps using the collection of its
     * first-access finding in `habit_hours` separate hours within `habit_window`, a second finding
     * says it took the collection up as a habit. A service's work is fixed by its code, so a new
     * habit of a service is new code, a new configuration or its key in other hands; a person's is
     * as often a new project (`all` follows people too, `none` turns the follow-up off).
     */
    habit_identities: z.enum(['services', 'all', 'none']).default('services'),
    /** Separate hours of use after the first access that make it a habit (the first hour included). */
    habit_hours: z.number().int().min(2).max(168).default(6),
    /** How long after the first access the hours of use are counted. */
    habit_window: duration.default('24h'),
  })
  .strict();

export type NewCollectionParams = z.infer<typeof newCollectionParamsSchema>;
