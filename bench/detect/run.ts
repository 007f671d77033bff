// `npm run bench:detect`: the detection-quality benchmark. Runs the default pipeline's detectors
// and risk engine over the labelled 30-day scenario in event time, and reports per attack whether
// and how fast it was detected, plus recall, precision and false-positive incidents per 1,000
// identity-days. Writes bench/results/detect-latest.json and prints a table.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createDetectors } from '../../detectors/index.js';
import { loadPipeline, packageRoot } from '../../src/config/index.js';
import { createHistoryAccumulator } from '../../src/detect/history-of.js';
import { createDetectorRuntime, createRiskEngine } from '../../src/detect/index.js';
import type { Finding } from '../../src/model/index.js';
import { type Attack, DAY, HOUR, makeScenario } from './scenario.js';

interface IncidentRecord {
  readonly id: string;
  readonly actor: string;
  readonly time: number;
  readonly findings: Finding[];
}

function matches(a: Attack, f: Finding): boolean {
  const slack = 2 * HOUR;
  // The finding's span (first firing to latest issue) overlaps the attack.
  return f.event_time >= a.start && f.first_fired_time <= a.end + slack && (a.entities.includes(f.actor) || a.entities.includes(f.entity));
}

/** The restart run's restart: day 22 00:00, after every warm-up and two days before the first attack. */
const RESTART_HOUR = 22 * 24;

export async function runDetectionBenchmark(): Promise<Record<string, unknown>> {
  const report = await runScenario();
  const restarted = await runScenario(RESTART_HOUR);
  return {
    ...report,
    // The same scenario with vigil restarted without any checkpoint at RESTART_HOUR: every identity
    // starts from what the store's history teaches (bootstrap), as after a new deployment.
    restart: {
      at_day: RESTART_HOUR / 24,
      identities_bootstrapped: restarted.identities_bootstrapped,
      per_attack: restarted.per_attack,
      recall: restarted.recall,
      precision: restarted.precision,
      incidents: restarted.incidents,
      false_positive_incidents: restarted.false_positive_incidents,
      fp_incidents_per_1000_identity_days: restarted.fp_incidents_per_1000_identity_days,
      findings_from_restart_day_by_detector: restarted.findings_from_restart_day_by_detector,
      false_positive_examples: restarted.false_positive_examples,
    },
  };
}

async function runScenario(restartHour?: number): Promise<Record<string, unknown>> {
  const pipeline = loadPipeline(path.join(packageRoot(), 'pipelines/default.yaml'));
  // What an operator adds for this organisation: which collections are sensitive, and that its
  // gateway labels events with the caller's team (peers come from the label, not co-access).
  pipeline.detectors['new-collection'].peer_groups = 'attribute';
  pipeline.detectors['new-collection'].collections = {
    customer_pii: { sensitivity: 'high' },
    hr_records: { sensitivity: 'high' },
    finance_reports: { sensitivity: 'high' },
  };
  const scenario = makeScenario();
  const newRuntime = () =>
    createDetectorRuntime(createDetectors(pipeline), {
      maxHotEntities: pipeline.detection.max_hot_entities,
    });
  let runtime = newRuntime();
  // What the store would answer for an identity's history (only needed for a restart).
  const stored = createHistoryAccumulator(pipeline.detectors['volume-spike'].window);
  let bootstrapped = 0;
  const afterRestart: Record<string, number> = {};
  const rc = pipeline.response;
  const risk = createRiskEngine({ halfLifeMs: rc.risk_half_life, incidentThreshold: rc.incident_min_risk, groupWindowMs: rc.incident_group_window });
  const findings = new Map<string, Finding>();
  const incidents = new Map<string, IncidentRecord>();
  const openByActor = new Map<string, { incident: IncidentRecord; last: number }>();
  let events = 0;
  const started = performance.now();
  for (let h = 0; h < scenario.hours; h++) {
    const batch = scenario.hour(h);
    events += batch.length;
    if (h === restartHour) runtime = newRuntime();
    if (restartHour !== undefined && h >= restartHour) {
      // As the detect stage does for identities it has no state for (src/detect/stage.ts).
      for (const u of runtime.unknownIdentities(batch)) {
        const history = stored.historyOf(u.tenant, u.actor, u.before);
        const first = batch.find((e) => e.tenant === u.tenant && e.actor === u.actor)!;
        if (!history) continue;
        runtime.bootstrap(first, history, u.before);
        bootstrapped++;
      }
    }
    for (const f of runtime.process(batch, batch.at(-1)?.time ?? scenario.start + h * HOUR)) {
      findings.set(f.finding_id, f);
      // Findings from the restart hour on, in both runs (the continuous one is the yardstick).
      if (h >= RESTART_HOUR) afterRestart[f.detector] = (afterRestart[f.detector] ?? 0) + 1;
      // As the responder decides: a finding opens (or joins) an incident when its own score
      // reaches incident_min_score or the identity's decaying risk reaches incident_min_risk.
      const u = risk.add(f, f.event_time);
      if (f.suppressed || (f.score < rc.incident_min_score && u.risk < rc.incident_min_risk)) continue;
      const open = openByActor.get(f.actor);
      if (open && f.event_time - open.last <= rc.incident_group_window) {
        open.incident.findings.push(f);
        open.last = f.event_time;
        continue;
      }
      const incident: IncidentRecord = { id: f.finding_id, actor: f.actor, time: f.event_time, findings: [f] };
      incidents.set(incident.id, incident);
      openByActor.set(f.actor, { incident, last: f.event_time });
    }
    // As the detect stage checkpoints (every 10 s of wall time, many times an hour): identities
    // idle through the hour have their states packed, and unpacked on their next event.
    runtime.takeDirty();
    if (restartHour !== undefined) for (const e of batch) stored.add(e);
  }
  const seconds = (performance.now() - started) / 1000;
  const perAttack = scenario.attacks.map((a) => {
    const hits = [...incidents.values()].filter((i) => i.findings.some((f) => matches(a, f)));
    const matched = hits.flatMap((i) => i.findings.filter((f) => matches(a, f)));
    // Time to detect: from the attack's start to the first firing of a finding that made (or joined)
    // an incident; re-issues move a finding's event_time forward, its first_fired_time stays.
    const first = [...matched].sort((x, y) => x.first_fired_time - y.first_fired_time)[0];
    const firstInIncident = [...matched].sort((x, y) => x.event_time - y.event_time)[0];
    const anyFinding = [...findings.values()].filter((f) => matches(a, f)).sort((x, y) => x.event_time - y.event_time)[0];
    return {
      attack: a.id,
      title: a.title,
      detected: hits.length > 0,
      time_to_detect_s: first ? Math.max(0, Math.round((first.first_fired_time - a.start) / 1000)) : null,
      /** When the issue that put the attack in an incident happened (the finding may have grown into it). */
      time_to_incident_s: firstInIncident ? Math.max(0, Math.round((firstInIncident.event_time - a.start) / 1000)) : null,
      detectors: [...new Set(hits.flatMap((i) => i.findings.filter((f) => matches(a, f)).map((f) => f.detector)))],
      finding_without_incident: !hits.length && Boolean(anyFinding),
    };
  });
  const truePositive = [...incidents.values()].filter((i) => scenario.attacks.some((a) => i.findings.some((f) => matches(a, f))));
  const falsePositive = [...incidents.values()].filter((i) => !truePositive.includes(i));
  const identityDays = scenario.identities * scenario.days;
  const byDetector: Record<string, number> = {};
  for (const f of findings.values()) byDetector[f.detector] = (byDetector[f.detector] ?? 0) + 1;
  const report = {
    scenario: { days: scenario.days, identities: scenario.identities, events, attacks: scenario.attacks.length },
    per_attack: perAttack,
    recall: perAttack.filter((p) => p.detected).length / perAttack.length,
    precision: incidents.size ? truePositive.length / incidents.size : 0,
    incidents: incidents.size,
    false_positive_incidents: falsePositive.length,
    fp_incidents_per_1000_identity_days: (falsePositive.length / identityDays) * 1000,
    findings_by_detector: byDetector,
    false_positive_examples: falsePositive.slice(0, 10).map((i) => ({ actor: i.actor, day: Math.floor((i.time - scenario.start) / DAY), detectors: [...new Set(i.findings.map((f) => f.detector))], sentence: i.findings[0]!.sentence })),
    events_per_s: Math.round(events / seconds),
    identities_bootstrapped: bootstrapped,
    findings_from_restart_day_by_detector: afterRestart,
    targets: { every_attack_detected: perAttack.every((p) => p.detected), fp_per_1000_identity_days_max: 1 },
  };
  return report;
}

async function main(): Promise<void> {
  const report = await runDetectionBenchmark();
  const dir = path.join(packageRoot(), 'bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'detect-latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  const r = report as { per_attack: Array<{ attack: string; detected: boolean; time_to_detect_s: number | null; time_to_incident_s: number | null; detectors: string[] }>; recall: number; precision: number; fp_incidents_per_1000_identity_days: number; incidents: number };
  const secs = (v: number | null) => (v === null ? '-' : `${v} s`);
  process.stdout.write('attack                 detected  time to detect  time to incident  detectors\n');
  for (const p of r.per_attack) {
    process.stdout.write(`${p.attack.padEnd(22)} ${String(p.detected).padEnd(9)} ${secs(p.time_to_detect_s).padEnd(15)} ${secs(p.time_to_incident_s).padEnd(17)} ${p.detectors.join(', ')}\n`);
  }
  process.stdout.write(`recall ${r.recall.toFixed(2)}  precision ${r.precision.toFixed(2)}  incidents ${r.incidents}  FP incidents / 1,000 identity-days ${r.fp_incidents_per_1000_identity_days.toFixed(2)}\n`);
  const x = (report as { restart: typeof r & { at_day: number; identities_bootstrapped: number } }).restart;
  process.stdout.write(
    `restarted without checkpoints on day ${x.at_day} (${x.identities_bootstrapped} identities bootstrapped): ` +
      `${x.per_attack.filter((p) => p.detected).length}/${x.per_attack.length} attacks detected, recall ${x.recall.toFixed(2)}  precision ${x.precision.toFixed(2)}  incidents ${x.incidents}  FP incidents / 1,000 identity-days ${x.fp_incidents_per_1000_identity_days.toFixed(2)}\n`,
  );
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : err}\n`);
    process.exit(1);
  });
}
