// `vigil demo`: the whole pipeline on embedded defaults over a generated workload — a week of
// dozens of identities with one exfiltration burst — ending with a short report.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { SingleBar } from 'cli-progress';
import { type Config, loadConfig } from '../../config/index.js';
import type { Finding, Incident } from '../../model/index.js';
import { listFindings, listIncidents, summary } from '../../store/index.js';
import { createLogger } from '../../telemetry/index.js';
import { startVigil } from '../app.js';
import { newWebhookSecret } from '../wiring/secrets.js';
import { waitForDrain } from '../drain.js';
import { generateWorkload } from './workload.js';
import { startWebhookReceiver } from './webhook-receiver.js';

export interface DemoOptions {
  readonly days: number;
  readonly people: number;
  readonly services: number;
  readonly batch: number;
  readonly progress: boolean;
}

export interface DemoResult {
  readonly ok: boolean;
  readonly eventsSent: number;
  readonly eventsStored: number;
  readonly findings: Finding[];
  readonly incidents: Incident[];
  readonly webhooksVerified: number;
  readonly attackerToken: string;
  readonly attackerFound: boolean;
  readonly seconds: number;
  readonly dataDir: string;
  /** The commands that show the demo's findings and incidents, as a user types them. */
  readonly commands: string[];
}

export async function runDemo(
  base: Config,
  opts: DemoOptions,
  out: (line: string) => void,
): Promise<DemoResult> {
  const started = Date.now();
  const dataDir = path.join(base.dataDir, 'demo');
  // The demo always starts from an empty store of its own, so its report is about this run.
  rmSync(dataDir, { recursive: true, force: true });
  const secret = newWebhookSecret();
  const receiver = await startWebhookReceiver(secret);
  const env = { VIGIL_WEBHOOK_URL: receiver.url, VIGIL_WEBHOOK_SECRET: secret };
  // Embedded whatever the shell holds: none of its Kafka, Redis or ClickHouse settings (a TLS or
  // SASL one without its broker list would rightly refuse to start).
  const local = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(KAFKA|REDIS|CLICKHOUSE)_/.test(k)),
  );
  const config = loadConfig(
    {
      ...local,
      VIGIL_ADMIN_TOKEN: '',
      VIGIL_TOKEN_KEY: '',
    },
    {
      VIGIL_DATA_DIR: dataDir,
      VIGIL_COLLECTOR_PORT: '0',
      VIGIL_ADMIN_PORT: '0',
      VIGIL_OTLP_HTTP_PORT: '0',
      VIGIL_OTLP_GRPC_PORT: '0',
      VIGIL_HOST: '127.0.0.1',
      VIGIL_LOG_LEVEL: 'warn',
    },
  );
  const app = await startVigil(
    config,
    { logger: createLogger('warn', 'vigil-demo', config.env.VIGIL_LOG_FILE) },
    { ...process.env, ...env },
  );
  try {
    const tenant = 'acme';
    const workload = generateWorkload({
      tenant,
      days: opts.days,
      people: opts.people,
      services: opts.services,
    });
    out(
      `vigil demo: ${workload.events.length.toLocaleString('en-US')} events, ${workload.identities} identities, ${opts.days} days, one injected exfiltration burst`,
    );
    const bar = opts.progress
      ? new SingleBar({
          format: '  ingest [{bar}] {percentage}% | {value}/{total} events | {eta}s left',
          hideCursor: true,
        })
      : undefined;
    bar?.start(workload.events.length, 0);
    for (let i = 0; i < workload.events.length; i += opts.batch) {
      const chunk = workload.events.slice(i, i + opts.batch);
      const body = gzipSync(chunk.map((e) => JSON.stringify(e)).join('\n'));
      const res = await postWithRetry(`${app.collectorUrl}/v1/events`, app.sourceToken, body);
      const answer = (await res.json()) as { accepted: number; rejected: unknown[] };
      if (answer.rejected.length)
        throw new Error(
          `collector rejected ${answer.rejected.length} demo events: ${JSON.stringify(answer.rejected[0])}`,
        );
      bar?.increment(chunk.length);
    }
    bar?.stop();
    const drained = await waitForDrain(app, { detectedAtLeast: workload.events.length, timeoutMs: 60_000 });
    const findings = await listFindings(app.store.client, { tenant });
    const incidents = await listIncidents(app.store.client, { tenant });
    // Webhooks are delivered asynchronously: give the last ones a moment.
    const deadline = Date.now() + 15_000;
    while (receiver.received.filter((r) => r.verified).length < incidents.length && Date.now() < deadline)
      await sleep(100);
    const stored = await summary(app.store.client, tenant);
    const attackerToken = app.tokenizer.token('actor', tenant, workload.attacker, 'user');
    const attackerFound = findings.some(
      (f) => f.actor === attackerToken && f.event_time >= workload.attackStart,
    );
    const verified = receiver.received.filter((r) => r.verified).length;
    const result: DemoResult = {
      ok: drained && attackerFound && incidents.some((i) => i.actor === attackerToken) && verified > 0,
      eventsSent: workload.events.length,
      eventsStored: stored.distinct_events,
      findings,
      incidents,
      webhooksVerified: verified,
      attackerToken,
      attackerFound,
      seconds: (Date.now() - started) / 1000,
      dataDir,
      commands: resultCommands(dataDir, process.env, process.cwd()),
    };
    report(result, receiver.received.length, out);
    return result;
  } finally {
    await app.stop();
    await receiver.close();
  }
}

async function postWithRetry(url: string, token: string, body: Buffer): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/x-ndjson',
        'content-encoding': 'gzip',
      },
      body,
    });
    if ((res.status === 429 || res.status === 503) && attempt < 20) {
      await sleep(Number(res.headers.get('retry-after') ?? 1) * 1000);
      continue;
    }
    if (!res.ok) throw new Error(`collector answered ${res.status}: ${await res.text()}`);
    return res;
  }
}

function report(r: DemoResult, deliveries: number, out: (line: string) => void): void {
  out('');
  out(
    `events stored      ${r.eventsStored.toLocaleString('en-US')} of ${r.eventsSent.toLocaleString('en-US')} sent`,
  );
  out(`findings           ${r.findings.length}`);
  for (const f of r.findings.slice(0, 5)) {
    out(`  [${f.severity} ${f.score.toFixed(2)}] ${f.detector}: ${f.sentence}`);
    out(
      `      observed ${Math.round(f.observed)} vs expected ${f.expected.toFixed(1)} (band ${f.band_low.toFixed(1)}–${f.band_high.toFixed(1)}); baseline: ${f.baseline_period}`,
    );
  }
  out(`incidents          ${r.incidents.length}`);
  for (const i of r.incidents.slice(0, 5))
    out(`  ${i.incident_id} ${i.status} ${i.severity} risk ${i.risk.toFixed(1)}: ${i.title}`);
  out(
    `webhooks           ${r.webhooksVerified} delivered with a verified Standard Webhooks signature (${deliveries} received)`,
  );
  out(`injected attacker  ${r.attackerToken} → ${r.attackerFound ? 'FOUND' : 'NOT FOUND'}`);
  out(`data               ${r.dataDir} (ClickHouse tables events, events_1m, findings, incidents, actions)`);
  out(`took               ${r.seconds.toFixed(1)} s — ${r.ok ? 'OK' : 'FAILED'}`);
  out('');
  out('see the results with');
  for (const c of r.commands) out(`  ${c}`);
}

/**
 * `vigil findings` and `vigil incidents` on the demo's own store. The demo ignored the shell's
 * ClickHouse server and CLI token; a variable that would send the commands elsewhere is emptied.
 */
export function resultCommands(dataDir: string, env: NodeJS.ProcessEnv, cwd: string): string[] {
  const relative = path.relative(cwd, dataDir);
  const dir = relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : dataDir;
  const unset = ['CLICKHOUSE_URL', 'VIGIL_CLI_TOKEN'].filter((k) => env[k]).map((k) => `${k}= `);
  return ['findings', 'incidents'].map((c) => `${unset.join('')}vigil --data-dir ${shellWord(dir)} ${c}`);
}

/** A path as one shell word: as is when it is plain, else single-quoted. */
const shellWord = (s: string): string => (/^[\w./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
