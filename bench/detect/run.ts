// `npm run bench:detect`: the detection-quality benchmark. Runs the default pipeline's detectors
// and risk engine over the labelled 30-day scenario in event time, and reports per attack whether
// and how fast it was detected, plus recall, precision and false-positive incidents per 1,000
// identity-days. Writes bench/results/detect-latest.json and prints a table.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createDetectors } from '../../detectors/index.js';
import { loadPipeline, packageRoot } from '../../src/config/index.js';
import {
  createDetectorRuntime,
  createRiskEngine,
  detectorRuntimeOptions,
  riskEngineOptions,
} from '../../src/detect/index.js';
import type { Finding } from '../../src/model/index.js';
import { createHistoryAccumulator } from './history-of.js';
import { type Attack, DAY, HOUR, makeScenario } from './scenario.js';

interface IncidentRecord {
  readonly id: string;
  readonly actor: string;
  readonly time: number;
  readonly findings: Finding[];
  /** The identity's risk when the incident last grew, and what composed it. */
  risk: number;
  explanation: string;
}

function placement(t: number, start: number): { day: number; weekday: string; weekend: boolean; hour: number } {
  const d = new Date(t);
  return {
    day: Math.floor((t - start) / DAY),
    weekday: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()]!,
    weekend: d.getUTCDay() === 0 || d.getUTCDay() === 6,
    hour: d.getUTCHours(),
  };
}

function matches(a: Attack, f: Finding): boolean {
  const slack = 2 * HOUR;
  // The finding's span (first firing to latest issue) overlaps the attack.
  return f.event_time >= a.start && f.first_fired_time <= a.end + slack && (a.entities.includes(f.actor) || a.entities.includes(f.entity));
}

/** The restart run's restart: day 22 00:00, after every warm-up and two days before the first attack. */
const RESTART_HOUR = 22 * 24;

export interface DetectBenchOptions {
  /** Seed of the placed variants' days, hours and victims (a run per seed; CI keeps the default). */
  readonly seed?: number;
  /** Placements per attack kind in the small tenant. */
  readonly placements?: number;
  /** Also run the restart-without-checkpoints pass (doubles the time). */
  readonly restart?: boolean;
}

export async function runDetectionBenchmark(o: DetectBenchOptions = {}): Promise<Record<string, unknown>> {
  const report = await runScenario(o);
  if (o.restart === false) return report;
  const restarted = await runScenario(o, RESTART_HOUR);
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

async function runScenario(o: DetectBenchOptions, restartHour?: number): Promise<Record<string, unknown>> {
  const pipeline = loadPipeline(path.join(packageRoot(), 'pipelines/default.yaml'));
  // What an operator adds for this organisation: which collections are sensitive, and that its
  // gateway labels events with the caller's team (peers come from the label, not co-access).
  pipeline.detectors['new-collection'].peer_groups = 'attribute';
  pipeline.detectors['new-collection'].collections = {
    customer_pii: { sensitivity: 'high' },
    hr_records: { sensitivity: 'high' },
    finance_reports: { sensitivity: 'high' },
  };
  const seed = o.seed ?? 1;
  const scenario = makeScenario({ placementSeed: seed, placements: o.placements ?? 4 });
  const newRuntime = () =>
    createDetectorRuntime(createDetectors(pipeline), detectorRuntimeOptions(pipeline));
  let runtime = newRuntime();
  // What the store would answer for an identity's history (only needed for a restart).
  const stored = createHistoryAccumulator(pipeline.detectors['volume-spike'].window);
  let bootstrapped = 0;
  const afterRestart: Record<string, number> = {};
  const rc = pipeline.response;
  const risk = createRiskEngine(riskEngineOptions(pipeline));
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
        open.incident.risk = u.risk;
        open.incident.explanation = u.explanation;
        open.last = f.event_time;
        continue;
      }
      const incident: IncidentRecord = { id: f.finding_id, actor: f.actor, time: f.event_time, findings: [f], risk: u.risk, explanation: u.explanation };
      incidents.set(incident.id, incident);
      openByActor.set(f.actor, { incident, last: f.event_time });
    }
    // As the detect stage checkpoints (every 10 s of wall time, many times an hour): identities
    // idle through the hour have their states packed, and unpacked on their next event.
    runtime.takeDirty();
    if (restartHour !== undefined) for (const e of batch) stored.add(e);
  }
  const seconds = (performance.now() - started) / 1000;
  const secondsFrom = (from: number, to: number | undefined) => (to === undefined ? null : Math.max(0, Math.round((to - from) / 1000)));
  const perAttack = scenario.attacks.map((a) => {
    const hits = [...incidents.values()].filter((i) => i.findings.some((f) => matches(a, f)));
    const matched = hits.flatMap((i) => i.findings.filter((f) => matches(a, f)));
    const matching = [...findings.values()].filter((f) => matches(a, f));
    // Findings level: the first firing of any finding about the attack (first_fired_time never
    // moves). Incident level: the event time of the issue that put the attack into an incident.
    const firstFired = Math.min(...matching.map((f) => f.first_fired_time));
    const inIncident = Math.min(...matched.map((f) => f.event_time));
    return {
      attack: a.id,
      kind: a.kind ?? a.id,
      title: a.title,
      tenant: a.kind ? scenario.smallTenant : scenario.tenant,
      /** Day of the scenario, weekday or weekend, and UTC hour the attack started at. */
      placed: placement(a.start, scenario.start),
      found: matching.length > 0,
      detected: hits.length > 0,
      time_to_detect_s: matching.length ? secondsFrom(a.start, firstFired) : null,
      time_to_incident_s: matched.length ? secondsFrom(a.start, inIncident) : null,
      /** From the first firing to the incident: how long composition took to escalate. */
      escalation_s: matching.length && matched.length ? secondsFrom(firstFired, Math.max(firstFired, inIncident)) : null,
      detectors: [...new Set(hits.flatMap((i) => i.findings.filter((f) => matches(a, f)).map((f) => f.detector)))],
      finding_detectors: [...new Set(matching.map((f) => f.detector))],
      risk: hits.length ? Math.round(Math.max(...hits.map((i) => i.risk))) : null,
      explanation: hits[0]?.explanation ?? null,
      finding_without_incident: !hits.length && matching.length > 0,
    };
  });
  const byKind: Record<string, { placements: number; findings_recall: number; incident_recall: number; weekday: string; weekend: string }> = {};
  for (const p of perAttack) {
    const k = (byKind[p.kind] ??= { placements: 0, findings_recall: 0, incident_recall: 0, weekday: '', weekend: '' });
    k.placements++;
    k.findings_recall += Number(p.found);
    k.incident_recall += Number(p.detected);
  }
  for (const [kind, k] of Object.entries(byKind)) {
    const of = (weekend: boolean) => {
      const ps = perAttack.filter((p) => p.kind === kind && p.placed.weekend === weekend);
      return ps.length ? `${ps.filter((p) => p.detected).length}/${ps.length}` : '-';
    };
    k.weekday = of(false);
    k.weekend = of(true);
    k.findings_recall /= k.placements;
    k.incident_recall /= k.placements;
  }
  const truePositive = [...incidents.values()].filter((i) => scenario.attacks.some((a) => i.findings.some((f) => matches(a, f))));
  const falsePositive = [...incidents.values()].filter((i) => !truePositive.includes(i));
  const identityDays = scenario.identities * scenario.days;
  const byDetector: Record<string, number> = {};
  for (const f of findings.values()) byDetector[f.detector] = (byDetector[f.detector] ?? 0) + 1;
  const report = {
    scenario: { days: scenario.days, identities: scenario.identities, events, attacks: scenario.attacks.length },
    per_attack: perAttack,
    placement_seed: seed,
    by_kind: byKind,
    /** Attacks with at least one finding about them, and attacks escalated to an incident. */
    findings_recall: perAttack.filter((p) => p.found).length / perAttack.length,
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
    met: perAttack.every((p) => p.detected) && (falsePositive.length / identityDays) * 1000 <= 1,
  };
  return report;
}

function parseArgs(argv: string[]): DetectBenchOptions & { seeds: number[] } {
  const o: { seeds: number[]; placements?: number; restart?: boolean } = { seeds: [1] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined || !/^[0-9]+$/.test(v)) throw new Error(`${arg}: expected a whole number`);
      return Number(v);
    };
    if (arg === '--seed') o.seeds = [value()];
    else if (arg === '--seeds') {
      const n = value();
      o.seeds = Array.from({ length: n }, (_, k) => k + 1);
    } else if (arg === '--placements') o.placements = value();
    else if (arg === '--no-restart') o.restart = false;
    else throw new Error(`unknown option ${arg} (known: --seed N, --seeds N, --placements N, --no-restart)`);
  }
  return o;
}

type Report = {
  per_attack: Array<{ attack: string; kind: string; placed: { day: number; weekday: string; hour: number }; found: boolean; detected: boolean; time_to_detect_s: number | null; time_to_incident_s: number | null; escalation_s: number | null; detectors: string[]; finding_detectors: string[]; risk: number | null }>;
  by_kind: Record<string, { placements: number; findings_recall: number; incident_recall: number; weekday: string; weekend: string }>;
  findings_recall: number;
  recall: number;
  precision: number;
  fp_incidents_per_1000_identity_days: number;
  false_positive_incidents: number;
  incidents: number;
  placement_seed: number;
  events_per_s: number;
};

function print(r: Report): void {
  const secs = (v: number | null) => (v === null ? '-' : `${v} s`);
  process.stdout.write(`placement seed ${r.placement_seed}\n`);
  process.stdout.write('attack                 placed         finding  incident  detect     incident   escalation  risk  detectors (in incident / all findings)\n');
  for (const p of r.per_attack) {
    const placed = `d${p.placed.day} ${p.placed.weekday} ${String(p.placed.hour).padStart(2, '0')}h`;
    process.stdout.write(
      `${p.attack.padEnd(22)} ${placed.padEnd(14)} ${String(p.found).padEnd(8)} ${String(p.detected).padEnd(9)} ${secs(p.time_to_detect_s).padEnd(10)} ${secs(p.time_to_incident_s).padEnd(10)} ${secs(p.escalation_s).padEnd(11)} ${String(p.risk ?? '-').padEnd(5)} ${p.detectors.join(', ')} / ${p.finding_detectors.join(', ')}\n`,
    );
  }
  process.stdout.write('kind                   placements  findings recall  incident recall  weekday  weekend\n');
  for (const [kind, k] of Object.entries(r.by_kind))
    process.stdout.write(`${kind.padEnd(22)} ${String(k.placements).padEnd(11)} ${k.findings_recall.toFixed(2).padEnd(16)} ${k.incident_recall.toFixed(2).padEnd(16)} ${k.weekday.padEnd(8)} ${k.weekend}\n`);
  process.stdout.write(
    `findings recall ${r.findings_recall.toFixed(2)}  incident recall ${r.recall.toFixed(2)}  precision ${r.precision.toFixed(2)}  incidents ${r.incidents}  ` +
      `FP incidents ${r.false_positive_incidents} = ${r.fp_incidents_per_1000_identity_days.toFixed(2)} / 1,000 identity-days  (${r.events_per_s.toLocaleString('en-US')} events/s)\n`,
  );
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const reports: Array<Record<string, unknown>> = [];
  for (const seed of args.seeds) {
    const report = await runDetectionBenchmark({ ...args, seed });
    reports.push(report);
    print(report as unknown as Report);
    const x = (report as { restart?: Report & { at_day: number; identities_bootstrapped: number } }).restart;
    if (x)
      process.stdout.write(
        `restarted without checkpoints on day ${x.at_day} (${x.identities_bootstrapped} identities bootstrapped): ` +
          `${x.per_attack.filter((p) => p.detected).length}/${x.per_attack.length} attacks escalated, incident recall ${x.recall.toFixed(2)}  precision ${x.precision.toFixed(2)}  incidents ${x.incidents}  FP incidents / 1,000 identity-days ${x.fp_incidents_per_1000_identity_days.toFixed(2)}\n`,
      );
  }
  const dir = path.join(packageRoot(), 'bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'detect-latest.json'), `${JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2)}\n`);
  if (!reports.every((r) => r.met)) process.stdout.write('TARGETS NOT MET (every attack escalated, <= 1 FP incident / 1,000 identity-days)\n');
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : err}\n`);
    process.exit(1);
  });
}
