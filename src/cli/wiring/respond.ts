// The respond role: the queue (BullMQ when REDIS_URL is set, else in-process), the guardrail
// state (Redis or memory, same rule), the targets from the environment, re-identification (shared,
// src/cli/wiring/privacy.ts), the controls the admin API exposes, and the stage that feeds the
// responder from the bus.
import { splitTokens } from '../../collectors/auth.js';
import { createRiskEngine } from '../../detect/risk.js';
import { riskEngineOptions } from '../../detect/risk-options.js';
import type { Config, RedisConnection } from '../../config/index.js';
import type { ReidentifyDeps } from '../../admin/reidentify.js';
import { reidentify } from '../../admin/reidentify.js';
import { errorMessage, type Action, type Finding, type Incident } from '../../model/index.js';
import type { Bus, Subscription } from '../../bus/index.js';
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
  startRespondStage,
  type WebhookTarget,
} from '../../respond/index.js';
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
} from '../../store/index.js';
import type { Logger, Metrics } from '../../telemetry/index.js';
import { defaultWebhookSecret } from './secrets.js';

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
  /** REDIS_URL parsed: the queue and the guardrail state in Redis; undefined: in memory. */
  readonly redis: RedisConnection | undefined;
  readonly store: StoreClient;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly incidents: BatchedWriter<Incident>;
  readonly actions: BatchedWriter<Action>;
  readonly findings: BatchedWriter<Finding>;
  readonly reidentify: ReidentifyDeps;
}

export interface RespondRole extends RespondWiring {
  /** The respond stage's consumer of findings. */
  readonly subscription: Subscription;
}

/** The responder, then the stage that feeds it findings from the bus. */
export async function startRespondRole(bus: Bus, o: RespondWiringOptions): Promise<RespondRole> {
  const respond = await startRespond(o);
  return { ...respond, subscription: await startRespondStage(bus, respond.responder) };
}

/** The webhook of each response action whose URL variable is set; its secrets, else the default. */
function webhookTargets(config: Config, env: NodeJS.ProcessEnv): Array<WebhookTarget | undefined> {
  return config.pipeline.response.actions.map((a) => {
    const url = env[a.url_env];
    if (!url) return undefined;
    const secrets = splitTokens(env[a.secret_env]).length
      ? splitTokens(env[a.secret_env]).flatMap((s) => s.split(' '))
      : [defaultWebhookSecret(config)];
    return { url, secrets, timeoutMs: a.timeout };
  });
}

/** The blast-radius limits and the kill switch: in Redis (shared by every responder) with
 * REDIS_URL, else in this process's memory. */
function guardrails(o: RespondWiringOptions): {
  blastRadius: BlastRadius;
  killSwitch: KillSwitch;
  close(): Promise<void>;
} {
  const limits = o.config.pipeline.response.guardrails.blast_radius;
  const forced = o.config.env.VIGIL_RESPONDER_KILL_SWITCH;
  if (forced) o.logger.warn('VIGIL_RESPONDER_KILL_SWITCH is on: containment runs as dry runs');
  if (!o.redis)
    return {
      blastRadius: createMemoryBlastRadius(limits),
      killSwitch: createMemoryKillSwitch(forced),
      close: async () => {},
    };
  const g = createRedisGuardrails({
    redisUrl: o.redis.url,
    redisTls: o.redis.tls,
    prefix: o.config.env.VIGIL_QUEUE_PREFIX,
    limits,
    killSwitchForced: forced,
  });
  return { blastRadius: g.blastRadius, killSwitch: g.killSwitch, close: () => g.close() };
}

async function startRespond(o: RespondWiringOptions): Promise<RespondWiring> {
  const webhooks = webhookTargets(o.config, o.env);
  const rc = o.config.pipeline.response;
  const onError = (jobId: string, err: unknown) =>
    o.logger.warn({ job: jobId, err: errorMessage(err) }, 'action attempt failed');
  const redis = o.redis;
  const queue = redis
    ? createBullmqQueue({
        redisUrl: redis.url,
        redisTls: redis.tls,
        prefix: o.config.env.VIGIL_QUEUE_PREFIX,
        maxAttempts: rc.max_attempts,
        onError,
      })
    : createInProcessQueue({ maxAttempts: rc.max_attempts, onError });
  const { blastRadius, killSwitch, close: closeGuardrails } = guardrails(o);
  const { targets, unavailable } = resolveTargets(rc, o.env, {
    defaultWebhookSecrets: () => [defaultWebhookSecret(o.config)],
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
    webhookTargets: webhooks,
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
