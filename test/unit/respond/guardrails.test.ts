// Guardrails: the allowlist, the kill switch and the blast-radius counter (atomic under concurrency).
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, responseSchema } from '../../../src/config/index.js';
import {
  blastRadiusFinding,
  createMemoryBlastRadius,
  createMemoryKillSwitch,
  effectiveMode,
  neverContainReason,
} from '../../../src/respond/guardrails.js';
import { findingSchema } from '../../../src/model/index.js';

const guardrails = responseSchema.parse({
  guardrails: {
    never_contain: { tokens: ['svc_k1_breakglass0000000000'], labels: ['break-glass'] },
    blast_radius: { max_containments: 5, window: '1h' },
  },
}).guardrails;
const T0 = Date.UTC(2026, 10, 2, 10);

describe('never-contain allowlist', () => {
  it('protects listed tokens and labels, and names the entry', () => {
    expect(neverContainReason(guardrails, ['usr_k1_x', 'svc_k1_breakglass0000000000'], [])).toBe(
      'never-contain allowlist: svc_k1_breakglass0000000000',
    );
    expect(neverContainReason(guardrails, ['usr_k1_x'], ['team=a', 'break-glass'])).toBe(
      'never-contain allowlist: label break-glass',
    );
    expect(neverContainReason(guardrails, ['usr_k1_x', ''], ['team=a'])).toBeUndefined();
  });
});

describe('kill switch', () => {
  it('turns enforce into dry-run and leaves the other modes alone', () => {
    expect(effectiveMode('enforce', true)).toBe('dry-run');
    expect(effectiveMode('approval', true)).toBe('approval');
    expect(effectiveMode('dry-run', true)).toBe('dry-run');
    expect(effectiveMode('enforce', false)).toBe('enforce');
  });

  it('reads VIGIL_RESPONDER_KILL_SWITCH through the configuration: on, off, or refused', () => {
    const killSwitch = (v: string | undefined) =>
      loadConfig(v === undefined ? {} : { VIGIL_RESPONDER_KILL_SWITCH: v }).env.VIGIL_RESPONDER_KILL_SWITCH;
    for (const v of ['true', '1', ' true ']) expect(killSwitch(v)).toBe(true);
    for (const v of [undefined, '', 'false', '0']) expect(killSwitch(v)).toBe(false);
    // Once a regex read these as "off": a switch someone meant to turn on must not start off.
    for (const v of ['enabled', 'on', 'yes', 'TRUE', 'ture', 'off', 'nope']) {
      expect(() => killSwitch(v), v).toThrow(ConfigError);
      expect(() => killSwitch(v), v).toThrow(/VIGIL_RESPONDER_KILL_SWITCH: must be one of true, false, 1, 0/);
    }
  });

  it('can be toggled, unless the environment forces it on', async () => {
    const free = createMemoryKillSwitch(false);
    expect(await free.isOn()).toBe(false);
    expect(await free.set(true)).toBe(true);
    expect(await free.isOn()).toBe(true);
    const forced = createMemoryKillSwitch(true);
    expect(await forced.set(false)).toBe(false);
    expect(await forced.isOn()).toBe(true);
  });
});

describe('blast radius', () => {
  it('lets exactly N of 50 identities tripping at once through, whatever the interleaving', async () => {
    const br = createMemoryBlastRadius(guardrails.blast_radius);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        // Each caller awaits something first, as a job does, so the reservations interleave.
        Promise.resolve().then(async () => {
          await new Promise((r) => setTimeout(r, i % 7));
          return br.reserve('t1', `job-${i}`, T0 + (i % 3));
        }),
      ),
    );
    expect(results.filter((r) => r.allowed)).toHaveLength(5);
    expect(results.filter((r) => !r.allowed).every((r) => r.count === 6 && r.limit === 5)).toBe(true);
  });

  it('counts a retried job once, per tenant, and forgets outside the window', async () => {
    const br = createMemoryBlastRadius({ max_containments: 2, window: 60_000 });
    expect((await br.reserve('t1', 'a', T0)).allowed).toBe(true);
    expect((await br.reserve('t1', 'a', T0 + 1)).count).toBe(1);
    expect((await br.reserve('t1', 'b', T0 + 2)).allowed).toBe(true);
    expect((await br.reserve('t1', 'c', T0 + 3)).allowed).toBe(false);
    expect((await br.reserve('t2', 'c', T0 + 3)).allowed).toBe(true);
    expect((await br.reserve('t1', 'c', T0 + 60_001)).allowed).toBe(true);
  });

  it('lets an approved action through beyond the limit (and counts it)', async () => {
    const br = createMemoryBlastRadius({ max_containments: 1, window: 60_000 });
    await br.reserve('t1', 'a', T0);
    expect((await br.reserve('t1', 'b', T0)).allowed).toBe(false);
    expect(await br.reserve('t1', 'b', T0, { force: true })).toEqual({ allowed: true, count: 2, limit: 1 });
  });

  it('with a limit of 0 holds every containment for approval', async () => {
    const br = createMemoryBlastRadius({ max_containments: 0, window: 60_000 });
    expect((await br.reserve('t1', 'a', T0)).allowed).toBe(false);
  });

  it('says why in a valid finding, one per tenant and window', () => {
    const a = blastRadiusFinding({
      tenant: 't1',
      reservation: { allowed: false, count: 6, limit: 5 },
      windowMs: 3_600_000,
      now: T0 + 1000,
      jobId: 'j6',
    });
    const b = blastRadiusFinding({
      tenant: 't1',
      reservation: { allowed: false, count: 7, limit: 5 },
      windowMs: 3_600_000,
      now: T0 + 2000,
      jobId: 'j7',
    });
    expect(findingSchema.parse(a)).toEqual(a);
    expect(a.finding_id).toBe(b.finding_id);
    expect(a.detector).toBe('responder.blast-radius');
    expect(a.sentence).toContain('6 containments requested in tenant t1 within 60 min exceed the limit of 5');
  });
});
