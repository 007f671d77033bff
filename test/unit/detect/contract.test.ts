// The detector contract is all a detector needs: a fake detector defined here as one object, added
// to the registry's list and to nothing else, is configured from pipeline YAML (its parameters
// checked, an unknown one refused by name), built by the registry, fires in the runtime, carries
// its token fields over a key rotation, and states its history needs.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { createDetectors, DETECTORS, HISTORY_NEEDS } from '../../../detectors/index.js';
import { makeFinding } from '../../../detectors/shared/index.js';
import { ConfigError, loadPipelineWith, pipelineSchemaFor } from '../../../src/config/index.js';
import {
  createDetectorRuntime,
  type Detector,
  defineDetector,
  historyNeedsOf,
} from '../../../src/detect/index.js';
import { PREVIOUS_TOKEN_ATTRIBUTES } from '../../../src/model/index.js';
import { makeEvent } from '../../helpers/factories.js';

interface StreakState {
  /** The identity's token (renamed on a key rotation through `tokenFields`). */
  actor: string;
  denied: number;
}

/** Fires when an identity is denied `min_denied` times in a row. */
const deniedStreak = defineDetector({
  name: 'denied-streak',
  params: z
    .object({
      enabled: z.boolean().default(true),
      min_denied: z.number().int().min(2).default(3),
    })
    .strict(),
  create: (params): Detector<StreakState>[] => [
    {
      name: 'denied-streak',
      tokenFields: ['actor'],
      entityKey: (e) => `${e.tenant}\u0000${e.actor}`,
      initState: (e) => ({ actor: e.actor, denied: 0 }),
      observe(state, e, now) {
        state.denied = e.outcome === 'denied' ? state.denied + 1 : 0;
        if (state.denied !== params.min_denied) return [];
        return [
          makeFinding({
            detector: 'denied-streak',
            scope: 'denied-streak',
            tenant: e.tenant,
            entityType: 'actor',
            entity: state.actor,
            actor: state.actor,
            windowStart: e.time,
            score: 0.9,
            confidence: 1,
            eventTime: e.time,
            firstObservedTime: e.observed_time,
            now,
            title: 'Denied in a row',
            sentence: `${state.denied} denied requests in a row.`,
            observed: state.denied,
            expected: 0,
            bandLow: 0,
            bandHigh: params.min_denied - 1,
            baselinePeriod: 'none',
            features: { denied: state.denied },
            evidence: [e.event_id],
            techniques: [],
          }),
        ];
      },
    },
  ],
  history: { networksPerIdentity: 200 },
});

const WITH_FAKE = [...DETECTORS, deniedStreak] as const;
const schema = pipelineSchemaFor(WITH_FAKE);
const tmp = mkdtempSync(path.join(tmpdir(), 'vigil-contract-'));
let fileSeq = 0;

function load(yaml: string) {
  const file = path.join(tmp, `pipeline-${++fileSeq}.yaml`);
  writeFileSync(file, yaml);
  return loadPipelineWith(file, schema);
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const ACTOR = 'usr_k1_streakAAAAAAAAAAAAAAAA';
const denied = (actor: string, k: number, attributes: Record<string, string> = {}) =>
  makeEvent({ actor, outcome: 'denied', time: Date.UTC(2026, 10, 2, 10, k), attributes });

describe('the detector contract', () => {
  it('makes a detector configurable from pipeline YAML, with its defaults', () => {
    expect(load('version: 1\n').detectors['denied-streak']).toEqual({ enabled: true, min_denied: 3 });
    const p = load('version: 1\ndetectors:\n  denied-streak:\n    min_denied: 5\n');
    expect(p.detectors['denied-streak'].min_denied).toBe(5);
    // The built-in detectors' blocks are unchanged beside it.
    expect(p.detectors['volume-spike'].window).toBe(600_000);
  });

  it('checks its parameters and refuses an unknown one by name', () => {
    const bad = configError(() => load('version: 1\ndetectors:\n  denied-streak:\n    min_denied: 1\n'));
    expect(bad.message).toContain('detectors.denied-streak.min_denied');
    const unknown = configError(() => load('version: 1\ndetectors:\n  denied-streak:\n    min_deny: 4\n'));
    expect(unknown.message).toContain('detectors.denied-streak');
    expect(unknown.message).toContain('min_deny');
    // Without its definition, its block is an unknown detector.
    const file = path.join(tmp, 'plain.yaml');
    writeFileSync(file, 'version: 1\ndetectors:\n  denied-streak: {}\n');
    expect(configError(() => loadPipelineWith(file, pipelineSchemaFor(DETECTORS))).message).toContain(
      'denied-streak',
    );
  });

  it('is built by the registry when enabled, after the built-in detectors', () => {
    const names = createDetectors(load('version: 1\n'), WITH_FAKE).map((d) => d.name);
    expect(names.at(-1)).toBe('denied-streak');
    expect(names.slice(0, -1)).toEqual(createDetectors(load('version: 1\n')).map((d) => d.name));
    const off = load('version: 1\ndetectors:\n  denied-streak:\n    enabled: false\n');
    expect(createDetectors(off, WITH_FAKE).map((d) => d.name)).not.toContain('denied-streak');
  });

  it('produces findings in the runtime, with the parameters from the YAML', () => {
    const p = load('version: 1\ndetectors:\n  denied-streak:\n    min_denied: 4\n');
    const rt = createDetectorRuntime(createDetectors(p, WITH_FAKE));
    const found = rt
      .process([0, 1, 2, 3, 4].map((k) => denied(ACTOR, k)))
      .filter((f) => f.detector === 'denied-streak');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ entity: ACTOR, observed: 4, event_time: Date.UTC(2026, 10, 2, 10, 3) });
  });

  it('renames its token fields when the identity is seen under a rotated key', () => {
    const p = load('version: 1\ndetectors:\n  denied-streak:\n    min_denied: 3\n');
    const rt = createDetectorRuntime(createDetectors(p, WITH_FAKE));
    const rotated = 'usr_k1_streakRotatedBBBBBBBBB';
    rt.process([denied(ACTOR, 0), denied(ACTOR, 1)]);
    const found = rt
      .process([denied(rotated, 2, { [PREVIOUS_TOKEN_ATTRIBUTES.actor]: ACTOR })])
      .filter((f) => f.detector === 'denied-streak');
    // The streak carried over (third denial) and the finding speaks of the new token.
    expect(found.map((f) => [f.entity, f.actor, f.observed])).toEqual([[rotated, rotated, 3]]);
  });

  it('adds its history needs to the registry’s', () => {
    expect(historyNeedsOf(WITH_FAKE)).toEqual({ ...HISTORY_NEEDS, networksPerIdentity: 200 });
    expect(HISTORY_NEEDS.networksPerIdentity).toBeLessThan(200);
  });
});
