// Elastic Common Schema mapping: one ECS document per record. Findings and incidents are alerts,
// access events and containment actions are events. Pure.
import type { AccessEvent, Action, Finding, Incident, Operation, Severity } from '../model/index.js';
import { PRODUCT_NAME, productVersion, VENDOR_NAME } from './product.js';
import { type ExportRecord, recordUid } from './record.js';
import { cleanDeep } from './sanitize.js';

export const ECS_VERSION = '8.11.0';

export type EcsDocument = Record<string, unknown> & {
  '@timestamp': string;
  event: {
    kind: 'alert' | 'event';
    category: string[];
    type: string[];
    action: string;
    outcome: 'success' | 'failure' | 'unknown';
    id: string;
    [k: string]: unknown;
  };
};

const SEVERITY_NUMBER: Record<Severity, number> = { low: 21, medium: 47, high: 73, critical: 99 };

export interface EcsOptions {
  /** @defaultValue the package version */
  readonly productVersion?: string;
}

export function toEcs(record: ExportRecord, opts: EcsOptions = {}): EcsDocument {
  const common = {
    ecs: { version: ECS_VERSION },
    observer: {
      vendor: VENDOR_NAME,
      product: PRODUCT_NAME,
      version: opts.productVersion ?? productVersion(),
    },
    labels: { tenant: record.value.tenant },
  };
  const uid = recordUid(record);
  switch (record.kind) {
    case 'finding':
      return cleanDeep({ ...common, ...findingToEcs(record.value, uid) });
    case 'incident':
      return cleanDeep({ ...common, ...incidentToEcs(record.value, uid) });
    case 'event':
      return cleanDeep({ ...common, ...eventToEcs(record.value) });
    case 'action':
      return cleanDeep({ ...common, ...actionToEcs(record.value, record.actor ?? '') });
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

function findingToEcs(f: Finding, uid: string): EcsDocument {
  return {
    '@timestamp': iso(f.detected_time),
    message: f.sentence,
    event: {
      kind: 'alert',
      category: ['database', 'intrusion_detection'],
      type: ['info'],
      action: f.detector,
      outcome: 'unknown',
      id: uid,
      dataset: 'vigil.finding',
      module: PRODUCT_NAME,
      severity: SEVERITY_NUMBER[f.severity],
      risk_score: Math.round(f.score * 1000) / 10,
      start: iso(f.first_fired_time),
      end: iso(f.event_time),
      created: iso(f.detected_time),
      reference: f.finding_id,
    },
    user: { id: f.actor },
    rule: {
      id: f.detector,
      name: f.detector,
      description: f.title,
      ruleset: PRODUCT_NAME,
      category: f.entity_type,
    },
    ...(f.attack_techniques.length
      ? { threat: { framework: 'MITRE ATT&CK', technique: { id: f.attack_techniques } } }
      : {}),
    vigil: {
      finding_id: f.finding_id,
      severity: f.severity,
      entity_type: f.entity_type,
      entity: f.entity,
      collection: f.collection,
      confidence: f.confidence,
      observed: f.observed,
      expected: f.expected,
      band_low: f.band_low,
      band_high: f.band_high,
      baseline_period: f.baseline_period,
      features: f.features,
      evidence: f.evidence,
    },
  };
}

function incidentToEcs(i: Incident, uid: string): EcsDocument {
  return {
    '@timestamp': iso(i.updated_time),
    message: i.summary,
    event: {
      kind: 'alert',
      category: ['intrusion_detection'],
      type: ['info'],
      action: `incident-${i.status}`,
      outcome: 'unknown',
      id: uid,
      dataset: 'vigil.incident',
      module: PRODUCT_NAME,
      severity: SEVERITY_NUMBER[i.severity],
      risk_score: Math.round(i.risk * 10) / 10,
      start: iso(i.opened_time),
      reference: i.incident_id,
    },
    user: { id: i.actor },
    rule: { id: 'incident', name: i.title, ruleset: PRODUCT_NAME },
    vigil: {
      incident_id: i.incident_id,
      status: i.status,
      severity: i.severity,
      finding_ids: i.finding_ids,
      updated_by: i.updated_by,
    },
  };
}

/** event.type per operation, within the values ECS allows for the `database` and `api` categories. */
const EVENT_TYPE: Record<Operation, string> = {
  search: 'access',
  fetch: 'access',
  scroll: 'access',
  upsert: 'change',
  delete: 'deletion',
  create_collection: 'creation',
  drop_collection: 'deletion',
  admin: 'admin',
  auth: 'start',
  other: 'info',
};

function eventToEcs(e: AccessEvent): EcsDocument {
  const auth = e.operation === 'auth';
  return {
    '@timestamp': iso(e.time),
    event: {
      kind: 'event',
      category: auth ? ['authentication', 'api'] : ['api', 'database'],
      type: [
        EVENT_TYPE[e.operation],
        e.outcome === 'allowed'
          ? 'allowed'
          : e.outcome === 'denied'
            ? 'denied'
            : e.outcome === 'pending'
              ? 'info'
              : 'error',
      ],
      action: e.operation,
      // A pending request (held for review) has neither succeeded nor failed.
      outcome: e.outcome === 'allowed' ? 'success' : e.outcome === 'pending' ? 'unknown' : 'failure',
      id: e.event_id,
      dataset: 'vigil.access',
      module: PRODUCT_NAME,
      // ECS durations are nanoseconds.
      duration: Math.round(e.latency_ms * 1e6),
      ingested: iso(e.observed_time),
      provider: e.source,
    },
    user: { id: e.actor },
    // The address is a token: ECS `source.ip` is typed ip, so the token goes in `source.address`.
    ...(e.src_ip || e.src_net
      ? {
          source: { ...(e.src_ip ? { address: e.src_ip } : {}), ...(e.src_net ? { subnet: e.src_net } : {}) },
        }
      : {}),
    ...(e.client ? { user_agent: { original: e.client } } : {}),
    service: { type: e.system },
    ...(e.trace_id ? { trace: { id: e.trace_id } } : {}),
    ...(e.span_id ? { span: { id: e.span_id } } : {}),
    ...(e.error_type ? { error: { type: e.error_type, code: String(e.status_code) } } : {}),
    vigil: {
      actor_type: e.actor_type,
      credential: e.credential,
      session: e.session,
      collection: e.collection,
      namespace: e.namespace,
      operation_raw: e.operation_raw,
      top_k: e.top_k,
      returned: e.returned,
      vectors_returned: e.vectors_returned,
      bytes_out: e.bytes_out,
      status_code: e.status_code,
      masked: e.masked,
      review: e.review,
      blocked: e.blocked,
      query_hash: e.query_hash,
      attributes: e.attributes,
    },
  };
}

function actionToEcs(a: Action, actor: string): EcsDocument {
  return {
    '@timestamp': iso(a.time),
    ...(a.error ? { message: a.error } : {}),
    event: {
      kind: 'event',
      category: ['iam'],
      type: [/revoke|delete|remove/i.test(a.kind) ? 'deletion' : 'change', 'user'],
      action: a.kind,
      outcome:
        a.outcome === 'succeeded' || a.outcome === 'undone'
          ? 'success'
          : a.outcome === 'failed' || a.outcome === 'retrying'
            ? 'failure'
            : 'unknown',
      id: a.action_id,
      dataset: 'vigil.action',
      module: PRODUCT_NAME,
      duration: Math.round(a.latency_ms * 1e6),
      reference: a.incident_id,
    },
    ...(actor ? { user: { id: actor, target: { id: actor } } } : {}),
    vigil: {
      action_id: a.action_id,
      job_id: a.job_id,
      incident_id: a.incident_id,
      outcome: a.outcome,
      mode: a.mode,
      attempt: a.attempt,
      target: a.target,
    },
  };
}
