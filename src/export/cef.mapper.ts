// CEF (ArcSight Common Event Format): `CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|ext`.
// Header fields escape `\` and `|`; extension values escape `\`, `=` and line breaks. Every value
// is first stripped of escape sequences and control characters (sanitize.ts), so a hostile token
// or title cannot inject fields, lines or terminal commands downstream. Pure.
import type { Severity } from '../model/index.js';
import { PRODUCT_NAME, productVersion, VENDOR_NAME } from './product.js';
import type { ExportRecord } from './record.js';
import { cleanText } from './sanitize.js';

export interface CefOptions {
  /** @defaultValue the package version */
  readonly productVersion?: string;
}

/** Escapes a header field: `\` and `|`; line breaks cannot appear in a header and become spaces. */
export function escapeCefHeader(value: string): string {
  return cleanText(value)
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/\r\n|\r|\n/g, ' ');
}

/** Escapes an extension value: `\`, `=`, and line breaks as the two characters `\n` / `\r`. */
export function escapeCefValue(value: string): string {
  return cleanText(value)
    .replace(/\\/g, '\\\\')
    .replace(/=/g, '\\=')
    .replace(/\r\n|\n/g, '\\n')
    .replace(/\r/g, '\\r');
}

const SEVERITY: Record<Severity, number> = { low: 3, medium: 5, high: 8, critical: 10 };

type Ext = Array<[key: string, value: string | number | undefined]>;

/** One CEF line (no trailing newline). */
export function toCef(record: ExportRecord, opts: CefOptions = {}): string {
  const { signature, name, severity, ext } = describe(record);
  const header = [
    'CEF:0',
    escapeCefHeader(VENDOR_NAME),
    escapeCefHeader(PRODUCT_NAME),
    escapeCefHeader(opts.productVersion ?? productVersion()),
    escapeCefHeader(signature),
    escapeCefHeader(name),
    String(Math.max(0, Math.min(10, Math.round(severity)))),
  ].join('|');
  const extension = ext
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${escapeCefValue(String(v))}`)
    .join(' ');
  return `${header}|${extension}`;
}

function describe(r: ExportRecord): { signature: string; name: string; severity: number; ext: Ext } {
  switch (r.kind) {
    case 'finding': {
      const f = r.value;
      return {
        signature: `vigil:finding:${f.detector}`,
        name: f.title,
        severity: SEVERITY[f.severity],
        ext: [
          ['rt', f.detected_time],
          ['start', f.first_fired_time],
          ['end', f.event_time],
          ['suid', f.actor],
          ['cat', f.detector],
          ['externalId', f.finding_id],
          ['msg', f.sentence],
          ['cs1Label', 'tenant'],
          ['cs1', f.tenant],
          ['cs2Label', 'collection'],
          ['cs2', f.collection],
          ['cs3Label', 'attackTechniques'],
          ['cs3', f.attack_techniques.join(',')],
          ['cs4Label', 'entity'],
          ['cs4', `${f.entity_type}:${f.entity}`],
          ['cfp1Label', 'score'],
          ['cfp1', f.score],
          ['cfp2Label', 'observed'],
          ['cfp2', f.observed],
          ['cfp3Label', 'expected'],
          ['cfp3', f.expected],
        ],
      };
    }
    case 'incident': {
      const i = r.value;
      return {
        signature: 'vigil:incident',
        name: i.title,
        severity: SEVERITY[i.severity],
        ext: [
          ['rt', i.updated_time],
          ['start', i.opened_time],
          ['suid', i.actor],
          ['externalId', i.incident_id],
          ['outcome', i.status],
          ['msg', i.summary],
          ['cs1Label', 'tenant'],
          ['cs1', i.tenant],
          ['cs2Label', 'findings'],
          ['cs2', i.finding_ids.join(',')],
          ['cfp1Label', 'risk'],
          ['cfp1', i.risk],
        ],
      };
    }
    case 'event': {
      const e = r.value;
      return {
        signature: `vigil:access:${e.operation}`,
        name: `${e.operation} ${e.outcome}`,
        severity: e.outcome === 'denied' ? 4 : e.outcome === 'error' ? 3 : 1,
        ext: [
          ['rt', e.time],
          ['suid', e.actor],
          ['act', e.operation_raw || e.operation],
          ['outcome', e.outcome],
          ['externalId', e.event_id],
          ['requestClientApplication', e.client],
          ['out', e.bytes_out ?? undefined],
          ['cs1Label', 'tenant'],
          ['cs1', e.tenant],
          ['cs2Label', 'collection'],
          ['cs2', e.collection],
          ['cs3Label', 'system'],
          ['cs3', e.system],
          ['cs4Label', 'srcAddressToken'],
          ['cs4', e.src_ip],
          ['cs5Label', 'session'],
          ['cs5', e.session],
          ['cn1Label', 'returned'],
          ['cn1', e.returned ?? undefined],
          ['cn2Label', 'vectorsReturned'],
          ['cn2', e.vectors_returned ?? undefined],
          ['cn3Label', 'statusCode'],
          ['cn3', e.status_code],
        ],
      };
    }
    case 'action': {
      const a = r.value;
      return {
        signature: `vigil:action:${a.kind}`,
        name: `${a.kind} ${a.outcome}`,
        severity: a.outcome === 'failed' ? 6 : a.outcome === 'retrying' ? 4 : 2,
        ext: [
          ['rt', a.time],
          ['suid', r.actor],
          ['act', a.kind],
          ['outcome', a.outcome],
          ['externalId', a.action_id],
          ['msg', a.error],
          ['cs1Label', 'tenant'],
          ['cs1', a.tenant],
          ['cs2Label', 'incident'],
          ['cs2', a.incident_id],
          ['cs3Label', 'mode'],
          ['cs3', a.mode],
          ['cs4Label', 'target'],
          ['cs4', a.target],
          ['cn1Label', 'attempt'],
          ['cn1', a.attempt],
        ],
      };
    }
  }
}

/** The CEF severity (0–10) a record is exported with. */
export function cefSeverity(record: ExportRecord): number {
  return Math.max(0, Math.min(10, Math.round(describe(record).severity)));
}
