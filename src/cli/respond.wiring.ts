// Wiring of the respond role: the queue (BullMQ when REDIS_URL is set, else in-process), the
// guardrail state (Redis or memory, same rule), the targets from the environment, the vault for
// re-identification, and the controls the admin API exposes.
import { createRiskEngine } from '../detect/risk.js';
import { riskEngineOptions } from '../detect/risk-options.js';
import { type Config, redisConnection } from '../config/index.js';
import type { ReidentifyDeps } from '../admin/reidentify.js';
import { reidentify } from '../admin/reidentify.js';
import { errorMessage, type Action, type Finding, type Incident } from '../model/index.js';
import {
  type ActionQueue,
  type BlastRadius,
  createBullmqQueue,
  createIncidentBook,
  createInProcessQueue,
  createMemoryBlastRadius,
  createMemoryKillSwitch,
  createRedisGuardrails,
  createResponder,
  createResponderControl,
  type KillSwitch,
  type Responder,
  type ResponderControl,
  resolveTargets,
  type WebhookTarget,
} from '../respond/index.js';
import {
  type BatchedWriter,
  createJobSuccessLookup,
  findAction,
  findAuditReason,
  findFinding,
  findIncident,
  listAwaitingApproval,
  listIncidents,
  recordAudit,
  type StoreClient,
} from '../store/index.js';
import type { Logger, Metrics } from '../telemetry/index.js';

export interface RespondWiring {
  readonly queue: ActionQueue;
  readonly responder: Responder;
  readonly control: ResponderControl;
  /** After the queue closed: the guardrail state's connection. */
  close(): Promise<void>;
}

export interface RespondWiringOptions {
  readonly config: Config;
  readonly env: NodeJS.ProcessEnv;
  readonly store: StoreClient;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly incidents: BatchedWriter<Incident>;
  readonly actions: BatchedWriter<Action>;
  readonly findings: BatchedWriter<Finding>;
  readonly reidentify: ReidentifyDeps;
  readonly webhookTargets: Array<WebhookTarget | undefined>;
  /** Signing secret(s) for webhook targets without a secret of their own. */
  readonly defaultWebhookSecrets: () => string[];
}

export async function startRespond(o: RespondWiringOptions): Promise<RespondWiring> {
  const rc = o.config.pipeline.response;
  const onError = (jobId: string, err: unknown) =>
    o.logger.warn({ job: jobId, err: errorMessage(err) }, 'action attempt failed');
  const redis = redisConnection(o.config.env);
  const queue = redis
    ? createBullmqQueue({
        redisUrl: redis.url,
        redisTls: redis.tls,
        prefix: o.config.env.VIGIL_QUEUE_PREFIX,
        maxAttempts: rc.max_attempts,
        onError,
      })
    : createInProcessQueue({ maxAttempts: rc.max_attempts, onError });
  const forced = o.config.env.VIGIL_RESPONDER_KILL_SWITCH;
  if (forced) o.logger.warn('VIGIL_RESPONDER_KILL_SWITCH is on: containment runs as dry runs');
  let blastRadius: BlastRadius;
  let killSwitch: KillSwitch;
  let closeGuardrails = async () => {};
  if (redis) {
    const g = createRedisGuardrails({
      redisUrl: redis.url,
      redisTls: redis.tls,
      prefix: o.config.env.VIGIL_QUEUE_PREFIX,
      limits: rc.guardrails.blast_radius,
      killSwitchForced: forced,
    });
    blastRadius = g.blastRadius;
    killSwitch = g.killSwitch;
    closeGuardrails = () => g.close();
  } else {
    blastRadius = createMemoryBlastRadius(rc.guardrails.blast_radius);
    killSwitch = createMemoryKillSwitch(forced);
  }
  const { targets, unavailable } = resolveTargets(rc, o.env, {
    defaultWebhookSecrets: o.defaultWebhookSecrets,
  });
  for (const [name, why] of unavailable) o.logger.warn({ target: name, why }, 'response target unavailable');

  const book = createIncidentBook(rc.incident_group_window);
  // Oldest first, so an identity's newest live incident is the one the book keeps.
  book.load((await listIncidents(o.store, { limit: 10_000 })).reverse());
  const audit = (e: Parameters<typeof recordAudit>[1]) => recordAudit(o.store, e);
  const reveal = async (token: string, reason: string) => {
    const r = await reidentify(o.reidentify, { token, reason, caller: 'responder' });
    return r.found ? r.value : undefined;
  };
  const saveIncident = (i: Incident) => o.incidents.write([i]);
  const recordAttempt = (a: Action) => o.actions.write([a]);
  const responder = createResponder({
    config: rc,
    queue,
    book,
    risk: createRiskEngine(riskEngineOptions(o.config.pipeline)),
    saveIncident,
    recordAttempt,
    alreadySucceeded: createJobSuccessLookup(o.store),
    webhookTargets: o.webhookTargets,
    targets,
    unavailableTargets: unavailable,
    reveal,
    audit,
    raiseAlert: (f) => o.findings.write([f]),
    blastRadius,
    killSwitch,
    logger: o.logger,
    metrics: o.metrics,
  });
  // Lookups by id read the store: flush what is buffered first, so a row written a moment ago counts.
  const flushed = async <T>(fn: () => Promise<T>) => {
    await Promise.all([o.actions.flush(), o.incidents.flush()]);
    return fn();
  };
  const control = createResponderControl({
    book,
    queue,
    targets,
    killSwitch,
    reveal,
    audit,
    saveIncident,
    recordAttempt,
    findIncident: (id) => flushed(() => findIncident(o.store, id)),
    findFinding: async (id) => {
      await o.findings.flush();
      return findFinding(o.store, id);
    },
    findAction: (id) => flushed(() => findAction(o.store, id)),
    awaitingApproval: (id) => flushed(() => listAwaitingApproval(o.store, id)),
    auditReason: (action, target, outcome) => findAuditReason(o.store, action, target, outcome),
  });
  await queue.start(responder.process);
  return { queue, responder, control, close: closeGuardrails };
}
