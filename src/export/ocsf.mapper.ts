// OCSF mapping. Findings and incidents are Detection Findings (2004), access events API Activity
// (6003), containment actions Account Change (3001). Pure: a record in, an OCSF object out.
import type { AccessEvent, Action, Finding, Incident, Operation, Severity } from '../model/index.js';
import { PRODUCT_NAME, productVersion, VENDOR_NAME } from './product.js';
import { type ExportRecord, recordUid } from './record.js';
import { cleanDeep } from './sanitize.js';

/** The OCSF schema version the objects follow. */
export const OCSF_VERSION = '1.3.0';

export type OcsfObject = Record<string, unknown> & {
  activity_id: number;
  category_uid: number;
  class_uid: number;
  type_uid: number;
  severity_id: number;
  time: number;
  metadata: {
    product: { name: string; vendor_name: string; version: string };
    version: string;
    [k: string]: unknown;
  };
};

export const OCSF_CLASSES = {
  detectionFinding: { uid: 2004, name: 'Detection Finding', category: 2, categoryName: 'Findings' },
  apiActivity: { uid: 6003, name: 'API Activity', category: 6, categoryName: 'Application Activity' },
  accountChange: {
    uid: 3001,
    name: 'Account Change',
    category: 3,
    categoryName: 'Identity & Access Management',
  },
} as const;

type OcsfClass = (typeof OCSF_CLASSES)[keyof typeof OCSF_CLASSES];

const SEVERITY_ID: Record<Severity, number> = { low: 2, medium: 3, high: 4, critical: 5 };
const SEVERITY_NAME: Record<number, string> = {
  0: 'Unknown',
  1: 'Informational',
  2: 'Low',
  3: 'Medium',
  4: 'High',
  5: 'Critical',
};

export interface OcsfOptions {
  /** @defaultValue the package version */
  readonly productVersion?: string;
}

export function toOcsf(record: ExportRecord, opts: OcsfOptions = {}): OcsfObject {
  const version = opts.productVersion ?? productVersion();
  switch (record.kind) {
    case 'finding':
      return cleanDeep(findingToOcsf(record.value, recordUid(record), version));
    case 'incident':
      return cleanDeep(incidentToOcsf(record.value, recordUid(record), version));
    case 'event':
      return cleanDeep(eventToOcsf(record.value, version));
    case 'action':
      return cleanDeep(actionToOcsf(record.value, record.actor ?? '', version));
  }
}

function base(
  cls: OcsfClass,
  activity: { id: number; name: string },
  severityId: number,
  time: number,
  meta: { uid: string; tenant: string; version: string; correlation?: string },
): OcsfObject {
  return {
    activity_id: activity.id,
    activity_name: activity.name,
    category_uid: cls.category,
    category_name: cls.categoryName,
    class_uid: cls.uid,
    class_name: cls.name,
    // The schema defines type_uid as class_uid * 100 + activity_id.
    type_uid: cls.uid * 100 + activity.id,
    type_name: `${cls.name}: ${activity.name}`,
    severity_id: severityId,
    severity: SEVERITY_NAME[severityId] ?? 'Other',
    time,
    metadata: {
      product: { name: PRODUCT_NAME, vendor_name: VENDOR_NAME, version: meta.version },
      version: OCSF_VERSION,
      uid: meta.uid,
      tenant_uid: meta.tenant,
      ...(meta.correlation ? { correlation_uid: meta.correlation } : {}),
    },
  };
}

function findingToOcsf(f: Finding, uid: string, version: string): OcsfObject {
  return {
    ...base(
      OCSF_CLASSES.detectionFinding,
      { id: 1, name: 'Create' },
      SEVERITY_ID[f.severity],
      f.detected_time,
      {
        uid,
        tenant: f.tenant,
        version,
      },
    ),
    message: f.sentence,
    status_id: 1,
    status: 'New',
    confidence_score: Math.round(f.confidence * 100),
    risk_score: Math.round(f.score * 100),
    finding_info: {
      uid: f.finding_id,
      title: f.title,
      desc: f.sentence,
      types: [f.detector],
      created_time: f.detected_time,
      first_seen_time: f.first_fired_time,
      last_seen_time: f.event_time,
      // Analytic type 3: statistical (a baseline and a band, not a signature).
      analytic: { uid: f.detector, name: f.detector, type_id: 3, type: 'Statistical' },
      attacks: f.attack_techniques.map((t) => ({ technique: { uid: t } })),
      data_sources: ['vigil'],
    },
    evidences: [
      {
        actor: { user: { uid: f.actor } },
        data: {
          entity_type: f.entity_type,
          entity: f.entity,
          observed: f.observed,
          expected: f.expected,
          band_low: f.band_low,
          band_high: f.band_high,
          baseline_period: f.baseline_period,
          features: f.features,
          evidence: f.evidence,
        },
      },
    ],
    ...(f.collection ? { resources: [{ type: 'collection', name: f.collection }] } : {}),
  };
}

const INCIDENT_STATUS: Record<Incident['status'], { id: number; name: string }> = {
  open: { id: 1, name: 'New' },
  acknowledged: { id: 2, name: 'In Progress' },
  contained: { id: 2, name: 'In Progress' },
  resolved: { id: 4, name: 'Resolved' },
};

function incidentToOcsf(i: Incident, uid: string, version: string): OcsfObject {
  const activity =
    i.status === 'resolved'
      ? { id: 3, name: 'Close' }
      : // Opened and untouched since: no later finding, still open. Not updated_time >
        // opened_time: opened_time is event time (a replay opens incidents in the past), updated_time
        // the wall clock of the write.
        i.status === 'open' && i.last_event_time <= i.opened_time
        ? { id: 1, name: 'Create' }
        : { id: 2, name: 'Update' };
  const status = INCIDENT_STATUS[i.status];
  return {
    ...base(OCSF_CLASSES.detectionFinding, activity, SEVERITY_ID[i.severity], i.updated_time, {
      uid,
      tenant: i.tenant,
      version,
      correlation: i.incident_id,
    }),
    message: i.summary,
    status_id: status.id,
    status: status.name,
    risk_score: Math.round(i.risk),
    finding_info: {
      uid: i.incident_id,
      title: i.title,
      desc: i.summary,
      types: ['incident'],
      created_time: i.opened_time,
      modified_time: i.updated_time,
      related_events: i.finding_ids.map((id) => ({ uid: id })),
      data_sources: ['vigil'],
    },
    evidences: [{ actor: { user: { uid: i.actor } } }],
    unmapped: { incident_status: i.status, updated_by: i.updated_by },
  };
}

/** OCSF API Activity ids: 1 Create, 2 Read, 3 Update, 4 Delete, 99 Other. */
const API_ACTIVITY: Record<Operation, { id: number; name: string }> = {
  search: { id: 2, name: 'Read' },
  fetch: { id: 2, name: 'Read' },
  scroll: { id: 2, name: 'Read' },
  upsert: { id: 3, name: 'Update' },
  delete: { id: 4, name: 'Delete' },
  create_collection: { id: 1, name: 'Create' },
  drop_collection: { id: 4, name: 'Delete' },
  admin: { id: 99, name: 'Other' },
  auth: { id: 99, name: 'Other' },
  other: { id: 99, name: 'Other' },
};

function eventToOcsf(e: AccessEvent, version: string): OcsfObject {
  const success = e.outcome === 'allowed';
  return {
    ...base(OCSF_CLASSES.apiActivity, API_ACTIVITY[e.operation], 1, e.time, {
      uid: e.event_id,
      tenant: e.tenant,
      version,
      correlation: e.trace_id || undefined,
    }),
    // A pending request (held for review) has neither succeeded nor failed: OCSF status 0 Unknown.
    ...(e.outcome === 'pending'
      ? { status_id: 0, status: 'Unknown' }
      : { status_id: success ? 1 : 2, status: success ? 'Success' : 'Failure' }),
    ...(e.error_type ? { status_detail: e.error_type } : {}),
    duration: Math.round(e.latency_ms),
    actor: {
      user: {
        uid: e.actor,
        type: e.actor_type,
        ...(e.credential ? { credential_uid: e.credential } : {}),
      },
      ...(e.session ? { session: { uid: e.session } } : {}),
      ...(e.client ? { app_name: e.client } : {}),
    },
    api: {
      operation: e.operation_raw || e.operation,
      service: { name: e.system },
      ...(e.span_id ? { request: { uid: e.span_id } } : {}),
      response: { code: e.status_code, ...(e.error_type ? { error: e.error_type } : {}) },
    },
    // Addresses are tokens, not IPs: they go in uid / subnet_uid, never in the typed `ip` field.
    src_endpoint: { uid: e.src_ip || 'unknown', ...(e.src_net ? { subnet_uid: e.src_net } : {}) },
    ...(e.collection
      ? {
          resources: [
            { type: 'collection', name: e.collection, ...(e.namespace ? { namespace: e.namespace } : {}) },
          ],
        }
      : {}),
    unmapped: {
      source: e.source,
      canonical_operation: e.operation,
      top_k: e.top_k,
      returned: e.returned,
      vectors_returned: e.vectors_returned,
      bytes_out: e.bytes_out,
      masked: e.masked,
      review: e.review,
      blocked: e.blocked,
      query_hash: e.query_hash,
      attributes: e.attributes,
    },
  };
}

/**
 * Account Change activity: 5 Disable, 6 Delete, 2 Enable (a containment undone); other response
 * kinds (webhook, notify) are 99 Other.
 */
export function accountChangeActivity(kind: string, outcome?: string): { id: number; name: string } {
  if (outcome === 'undone') return { id: 2, name: 'Enable' };
  if (/revoke|delete|remove/i.test(kind)) return { id: 6, name: 'Delete' };
  if (/disable|suspend|contain|block|lock/i.test(kind)) return { id: 5, name: 'Disable' };
  return { id: 99, name: 'Other' };
}

/** Status per outcome; outcomes not listed (held, escalated, …) are status 99 Other. */
const ACTION_STATUS: Partial<Record<string, { id: number; name: string; severity: number }>> = {
  succeeded: { id: 1, name: 'Success', severity: 1 },
  undone: { id: 1, name: 'Success', severity: 1 },
  failed: { id: 2, name: 'Failure', severity: 3 },
  retrying: { id: 2, name: 'Failure', severity: 2 },
  escalated: { id: 99, name: 'Other', severity: 2 },
};
const OTHER_STATUS = { id: 99, name: 'Other', severity: 1 };

function actionToOcsf(a: Action, actor: string, version: string): OcsfObject {
  const status = ACTION_STATUS[a.outcome] ?? OTHER_STATUS;
  return {
    ...base(OCSF_CLASSES.accountChange, accountChangeActivity(a.kind, a.outcome), status.severity, a.time, {
      uid: a.action_id,
      tenant: a.tenant,
      version,
      correlation: a.incident_id || undefined,
    }),
    status_id: status.id,
    status: status.name,
    ...(a.error ? { status_detail: a.error } : {}),
    duration: Math.round(a.latency_ms),
    user: { uid: actor || 'unknown' },
    unmapped: {
      action_kind: a.kind,
      outcome: a.outcome,
      mode: a.mode,
      attempt: a.attempt,
      job_id: a.job_id,
      incident_id: a.incident_id,
      target: a.target,
    },
  };
}
