// A detector process SIGKILLed mid-stream and restarted (distributed: Kafka bus on the shared
// broker under a unique topic prefix; the store and responder in one process, the detectors in
// another) resumes from its checkpoint: its baselines are restored, the attack after the kill is
// still detected, and the redelivered events produce no duplicate finding nor incident.
import { afterAll, describe, expect, it } from 'vitest';
import { generateWorkload } from '../../src/cli/demo/workload.js';
import type { Finding, Incident } from '../../src/model/index.js';
import { type ServeChild, startServeChild } from '../helpers/serve-child.js';
import { KAFKA_BROKERS, uniqueName } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';

describe('detector SIGKILLed and restarted', () => {
  const children: ServeChild[] = [];
  afterAll(async () => {
    for (const c of children) await c.child.kill('SIGKILL');
  });

  it('resumes from its checkpoint without duplicate findings or incidents', async () => {
    const kafka = { KAFKA_BROKERS, KAFKA_TOPIC_PREFIX: `${uniqueName('fd')}.`, KAFKA_PARTITIONS: '2' };
    const tenant = uniqueName('detector-kill');
    const w = generateWorkload({ tenant, days: 3, people: 4, services: 1, seed: 5 });
    const history = w.events.filter((e) => Date.parse(String(e.time)) < w.attackStart);
    const rest = w.events.filter((e) => Date.parse(String(e.time)) >= w.attackStart);
    const store = await startServeChild({ roles: 'collector,store,respond', env: kafka });
    children.push(store);
    const detect = await startServeChild({ roles: 'detect', env: kafka });
    children.push(detect);
    const metrics = async (c: ServeChild) => (await c.admin<Record<string, number>>('/v1/metrics')) ?? {};
    const post = async (events: typeof w.events) => {
      for (let i = 0; i < events.length; i += 2_000) {
        const res = await fetch(`${store.collectorUrl}/v1/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${store.sourceToken}`, 'content-type': 'application/x-ndjson' },
          body: events
            .slice(i, i + 2_000)
            .map((e) => JSON.stringify(e))
            .join('\n'),
        });
        expect(res.status).toBe(200);
        await res.arrayBuffer();
      }
    };

    await post(history);
    await waitFor(
      () => metrics(detect),
      (m) => (m.detect_events ?? 0) >= history.length,
      {
        timeoutMs: 30_000,
        what: 'history through the detectors',
      },
    );
    // The periodic checkpoint (every 10 s) holds the learned baselines.
    await waitFor(
      () => metrics(detect),
      (m) => (m.detect_states_checkpointed ?? 0) > 0,
      {
        timeoutMs: 25_000,
        intervalMs: 500,
        what: 'a checkpoint',
      },
    );
    // The attack arrives; the detector dies while working through it.
    const posting = post(rest);
    await waitFor(
      () => metrics(detect),
      (m) => (m.detect_events ?? 0) > history.length,
      {
        timeoutMs: 20_000,
        intervalMs: 20,
        what: 'the detector into the attack window',
      },
    );
    await detect.child.kill('SIGKILL');
    await posting;
    const again = await startServeChild({ like: detect });
    children.push(again);
    expect((await metrics(again)).detect_states_restored ?? 0).toBeGreaterThan(0);
    expect(again.roles).toBe('detect');

    const findings = async () =>
      (await store.admin<Finding[]>(`/v1/findings?tenant=${encodeURIComponent(tenant)}&limit=10000`)) ?? [];
    await waitFor(
      findings,
      (f) => f.some((x) => x.detector === 'volume-spike' && x.event_time >= w.attackStart),
      {
        timeoutMs: 40_000,
        intervalMs: 500,
        what: 'the attack detected after the restart',
      },
    );
    // Let the redelivered batches (uncommitted at the kill) settle.
    await waitFor(
      () => metrics(again),
      (m) => (m.detect_events ?? 0) > 0,
      { timeoutMs: 10_000 },
    );
    await new Promise((r) => setTimeout(r, 3_000));
    const all = await findings();
    // One finding per detection: the same detector, entity and event time never under two ids.
    const byDetection = new Map<string, Set<string>>();
    for (const f of all) {
      const k = `${f.detector}\u0000${f.entity}\u0000${f.event_time}`;
      byDetection.set(k, (byDetection.get(k) ?? new Set()).add(f.finding_id));
    }
    const duplicated = [...byDetection].filter(([, ids]) => ids.size > 1).map(([k]) => k);
    expect(duplicated).toEqual([]);
    expect(new Set(all.map((f) => f.finding_id)).size).toBe(all.length);
    const incidents =
      (await store.admin<Incident[]>(`/v1/incidents?tenant=${encodeURIComponent(tenant)}`)) ?? [];
    expect(incidents.length).toBeGreaterThan(0);
    const perActor = new Map<string, number>();
    for (const i of incidents) perActor.set(i.actor, (perActor.get(i.actor) ?? 0) + 1);
    expect([...perActor.values()].every((n) => n === 1)).toBe(true);
    console.log(`detector kill: ${all.length} findings, ${incidents.length} incidents, none duplicated`);
  }, 88_000);
});
