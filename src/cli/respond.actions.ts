// What the responder's CLI commands do (registered in respond.commands.ts). Lifecycle changes and
// reads work with or without a running vigil; approving and undoing need the running responder
// (its queue and targets).
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { type Config, loadConfig, type ResponseConfig } from '../config/index.js';
import { type Action, type Finding, findingSchema, type Incident } from '../model/index.js';
import {
  ADAPTERS,
  changeIncidentStatus,
  effectiveMode,
  entityLabels,
  evaluatePolicy,
  neverContainReason,
  resolveTargets,
  riskAfter,
  sensitivityOf,
} from '../respond/index.js';
import { isContainment } from '../config/index.js';
import {
  findIncident,
  incidentRow,
  listActionAttempts,
  listFailedActions,
  recordAudit,
} from '../store/index.js';
import { adminGet, adminPost, findRunningAdmin, withStore } from './admin-client.js';
import { withChainedWriter } from './chained-writer.js';
import { isoTime, printRows } from './format.js';

const cliCaller = () => `cli:${userInfo().username}`;

export function policyTestCommand(o: {
  finding: string;
  risk?: number;
  labels: string;
  format: 'json' | 'table';
}) {
  const config = loadConfig();
  const findings = readFindings(o.finding);
  const labels = o.labels
    .split(',')
    .map((l) => l.trim())
    .filter(Boolean);
  const reports = findings.map((f) =>
    policyReport(config.pipeline.response, f, o.risk, labels, config.env.VIGIL_RESPONDER_KILL_SWITCH),
  );
  if (o.format === 'json') process.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
  else for (const r of reports) process.stdout.write(renderReport(r));
}

export async function changeStatusCommand(
  id: string,
  verb: 'ack' | 'resolve',
  to: 'acknowledged' | 'resolved',
) {
  const config = loadConfig();
  const r = await withStore(
    config,
    async (t) =>
      adminPost<Incident & { error?: string }>(t, `/v1/incidents/${encodeURIComponent(id)}/${verb}`, {}),
    async (client) => {
      // The incident row goes through the chained writer: a recorded batch, not tampering.
      const res = await withChainedWriter(
        config,
        client,
        { table: 'incidents', toRow: incidentRow },
        (write: (items: Incident[]) => Promise<void>) =>
          changeIncidentStatus(
            {
              findIncident: (i) => findIncident(client, i),
              saveIncident: (i) => write([i]),
              audit: (e) => recordAudit(client, e),
            },
            id,
            to,
            cliCaller(),
          ),
      );
      return res.ok
        ? { status: 200, body: res.value as Incident & { error?: string } }
        : { status: res.status, body: { error: res.error } as Incident & { error?: string } };
    },
  );
  if (r.status !== 200) throw new Error(`${id}: ${r.body.error ?? `refused (${r.status})`}`);
  process.stdout.write(
    `${id}: ${r.body.status} by ${r.body.updated_by} at ${isoTime(r.body.updated_time)}\n`,
  );
}

export async function approveCommand(id: string) {
  const running = await requireRunning(loadConfig(), 'approving');
  const r = await adminPost<{ approved?: string[]; error?: string }>(
    running,
    `/v1/incidents/${encodeURIComponent(id)}/approve`,
    {},
  );
  if (r.status !== 200) throw new Error(`${id}: ${r.body.error ?? `refused (${r.status})`}`);
  process.stdout.write(`${id}: approved ${r.body.approved?.length ?? 0} action(s)\n`);
  for (const j of r.body.approved ?? []) process.stdout.write(`  ${j}\n`);
}

export async function actionsCommand(o: {
  failed?: boolean;
  incident: string;
  tenant: string;
  limit: number;
  format: 'json' | 'table';
}) {
  const q = `?failed=${o.failed ? 1 : 0}&incident=${encodeURIComponent(o.incident)}&tenant=${encodeURIComponent(o.tenant)}&limit=${o.limit}`;
  const rows = await withStore<Action[]>(
    loadConfig(),
    (t) => adminGet(t, `/v1/actions${q}`),
    (c) => (o.failed ? listFailedActions(c, o) : listActionAttempts(c, o)),
  );
  printRows(o.format === 'json' ? rows : rows.map((a) => ({ ...a, time: isoTime(a.time) })), o.format, [
    'action_id',
    'time',
    'kind',
    'target',
    'mode',
    'attempt',
    'outcome',
    'error',
  ]);
}

export async function undoCommand(actionId: string) {
  const running = await requireRunning(loadConfig(), 'undoing a containment');
  const r = await adminPost<{ job_id?: string; detail?: string; secret?: string; error?: string }>(
    running,
    `/v1/actions/${encodeURIComponent(actionId)}/undo`,
    {},
  );
  if (r.status !== 200) throw new Error(`${actionId}: ${r.body.error ?? `refused (${r.status})`}`);
  process.stdout.write(`${r.body.job_id}: ${r.body.detail}\n`);
  // Shown once, to the person who asked; vigil keeps no copy.
  if (r.body.secret) process.stdout.write(`new credential: ${r.body.secret}\n`);
}

export async function killSwitchCommand(state?: 'on' | 'off') {
  const running = await requireRunning(loadConfig(), 'the kill switch');
  if (state === undefined) {
    const s = await adminGet<{ on: boolean; forced: boolean }>(running, '/v1/responder/kill-switch');
    process.stdout.write(
      `kill switch ${s.on ? 'on' : 'off'}${s.forced ? ' (forced by VIGIL_RESPONDER_KILL_SWITCH)' : ''}\n`,
    );
    return;
  }
  const r = await adminPost<{ on?: boolean; error?: string }>(running, '/v1/responder/kill-switch', {
    on: state === 'on',
  });
  if (r.status !== 200) throw new Error(r.body.error ?? `refused (${r.status})`);
  process.stdout.write(`kill switch ${r.body.on ? 'on' : 'off'}\n`);
}

async function requireRunning(config: Config, what: string) {
  const running = await findRunningAdmin(config);
  if (!running)
    throw new Error(
      `${what} needs the running vigil (its responder holds the queue and the targets); none answers on port ${config.env.VIGIL_ADMIN_PORT}`,
    );
  return running;
}

function readFindings(file: string): Finding[] {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`--finding ${file}: ${(err as Error).message}`);
  }
  const items = Array.isArray(doc) ? doc : [doc];
  return items.map((item, i) => {
    const r = findingSchema.safeParse(item);
    if (!r.success) {
      const where = Array.isArray(doc) ? `[${i}].` : '';
      const issues = r.error.issues.map((x) => `${where}${x.path.join('.')}: ${x.message}`).join('; ');
      throw new Error(`--finding ${file}: not a finding: ${issues}`);
    }
    return r.data;
  });
}

export interface PolicyReport {
  readonly finding: { id: string; detector: string; severity: string; score: number; collection: string };
  readonly sensitivity: string;
  readonly risk: number;
  readonly labels: string[];
  readonly opens_incident: boolean;
  readonly matched: Array<{ name: string; reasons: string[] }>;
  readonly not_matched: Array<{ name: string; reason: string }>;
  readonly would: Array<{ source: string; target: string; type: string; mode: string; outcome: string }>;
}

/** The whole answer of `vigil policy test`: pure, from the configuration and the environment. */
export function policyReport(
  rc: ResponseConfig,
  f: Finding,
  risk: number | undefined,
  extraLabels: string[],
  killOn: boolean,
  env: NodeJS.ProcessEnv = process.env,
): PolicyReport {
  const r = risk ?? riskAfter(0, f);
  const labels = entityLabels(rc, f, extraLabels);
  const decision = evaluatePolicy(rc, f, { risk: r, labels: extraLabels });
  const would: PolicyReport['would'] = [];
  // Only which variables are set matters here; a webhook without a secret would get a generated one.
  const available = resolveTargets(rc, env, { defaultWebhookSecrets: () => ['generated'] });
  if (decision.opensIncident && f.score >= rc.incident_min_score) {
    for (const [i, a] of rc.actions.entries()) {
      would.push({
        source: `response.actions[${i}]`,
        target: env[a.url_env] ? new URL(env[a.url_env]!).host : `(${a.url_env} not set)`,
        type: a.type,
        mode: a.mode,
        outcome: env[a.url_env] ? (a.mode === 'enforce' ? 'deliver' : a.mode) : 'skipped: no URL',
      });
    }
  }
  for (const a of decision.actions) {
    const subject = a.subject === 'actor' ? f.actor : f.entity;
    const target = rc.targets[a.target]!;
    const containment = isContainment(a.type);
    const mode = containment ? effectiveMode(a.mode, killOn) : a.mode;
    const protectedBy = containment
      ? neverContainReason(rc.guardrails, [subject, f.actor, f.entity], labels)
      : undefined;
    const missing = available.unavailable.get(a.target);
    // The resolved settings when the target's variables are set; its configuration otherwise.
    const settings = available.targets.get(a.target)?.settings ?? target;
    const plan = (ADAPTERS[a.type].plan as (t: unknown, s: string) => string)(settings, subject);
    let outcome: string;
    if (protectedBy) outcome = `skipped: ${protectedBy}`;
    else if (missing) outcome = `skipped: target unavailable (${missing})`;
    else if (mode === 'dry-run')
      outcome = `dry run${killOn && a.mode === 'enforce' ? ' (kill switch on)' : ''}: would ${plan}`;
    else if (mode === 'approval') outcome = `awaits approval, then: ${plan}`;
    else outcome = `${plan}${containment ? ' (subject to the blast-radius limit)' : ''}`;
    would.push({ source: `policy ${a.rule}`, target: a.target, type: a.type, mode, outcome });
  }
  return {
    finding: {
      id: f.finding_id,
      detector: f.detector,
      severity: f.severity,
      score: f.score,
      collection: f.collection,
    },
    sensitivity: sensitivityOf(rc, f.collection),
    risk: Math.round(r * 10) / 10,
    labels,
    opens_incident: decision.opensIncident,
    matched: decision.matchedRules,
    not_matched: decision.skippedRules,
    would,
  };
}

function renderReport(r: PolicyReport): string {
  const lines = [
    `finding ${r.finding.id}: ${r.finding.detector}, ${r.finding.severity}, score ${r.finding.score}, ` +
      `collection ${r.finding.collection || '(none)'} (${r.sensitivity}), risk ${r.risk}` +
      (r.labels.length ? `, labels ${r.labels.join(', ')}` : ''),
    `opens an incident: ${r.opens_incident ? 'yes' : 'no'}`,
  ];
  lines.push(r.matched.length ? 'rules that fire:' : 'no rule fires');
  for (const m of r.matched) lines.push(`  + ${m.name}: ${m.reasons.join('; ')}`);
  if (r.not_matched.length) lines.push('rules that do not:');
  for (const m of r.not_matched) lines.push(`  - ${m.name}: ${m.reason}`);
  lines.push(r.would.length ? 'would do:' : 'would do nothing');
  for (const w of r.would) lines.push(`  ${w.source} → ${w.target} (${w.type}, ${w.mode}): ${w.outcome}`);
  return `${lines.join('\n')}\n\n`;
}
