// What the exporters carry: one stored record of a kind vigil produces, tagged with that kind.
// Every identifier in it is already a token (the model never holds raw values).
import type { AccessEvent, Action, Finding, Incident } from '../model/index.js';
import { deterministicId } from '../model/index.js';

export const EXPORT_KINDS = ['finding', 'incident', 'action', 'event'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];

export type ExportRecord =
  | { readonly kind: 'finding'; readonly value: Finding }
  | { readonly kind: 'incident'; readonly value: Incident }
  | { readonly kind: 'event'; readonly value: AccessEvent }
  /** `actor`: token of the identity the action was taken against (from its incident). */
  | { readonly kind: 'action'; readonly value: Action; readonly actor?: string };

/** Parses `finding,incidents,…` (singular or plural) into kinds; throws naming the bad one. */
export function parseKinds(value: string): ExportKind[] {
  const kinds = value
    .split(',')
    .map((k) => k.trim().toLowerCase().replace(/s$/, ''))
    .filter(Boolean);
  for (const k of kinds) {
    if (!(EXPORT_KINDS as readonly string[]).includes(k))
      throw new Error(`unknown export kind "${k}" (known: ${EXPORT_KINDS.join(', ')})`);
  }
  return [...new Set(kinds)] as ExportKind[];
}

/** When the record happened (epoch ms): what SIEMs index it by. */
export function recordTime(r: ExportRecord): number {
  switch (r.kind) {
    case 'finding':
      return r.value.detected_time;
    case 'incident':
      return r.value.updated_time;
    case 'event':
      return r.value.time;
    case 'action':
      return r.value.time;
  }
}

export function recordTenant(r: ExportRecord): string {
  return r.value.tenant;
}

/** The model's own id of the record (finding_id, incident_id, event_id, action_id). */
export function recordId(r: ExportRecord): string {
  switch (r.kind) {
    case 'finding':
      return r.value.finding_id;
    case 'incident':
      return r.value.incident_id;
    case 'event':
      return r.value.event_id;
    case 'action':
      return r.value.action_id;
  }
}

/**
 * Id of this *version* of the record: a finding re-issued with higher numbers or an incident that
 * changed status is a new document for the SIEM, a redelivered one is the same document (sinks
 * that deduplicate on ids, like Elasticsearch `create`, drop it).
 */
export function recordUid(r: ExportRecord): string {
  switch (r.kind) {
    case 'finding':
      return deterministicId('finding', r.value.finding_id, r.value.observed, r.value.detected_time);
    case 'incident':
      return deterministicId('incident', r.value.incident_id, r.value.updated_time, r.value.status);
    case 'event':
      return r.value.event_id;
    case 'action':
      return r.value.action_id;
  }
}

/** The identity the record is about (token), or '' when it has none. */
export function recordActor(r: ExportRecord): string {
  switch (r.kind) {
    case 'finding':
    case 'incident':
    case 'event':
      return r.value.actor;
    case 'action':
      return r.actor ?? '';
  }
}
