// Splunk HTTP Event Collector event objects: {time, host, source, sourcetype, index, event, fields}.
// `event` is the vigil record itself; `fields` are the indexed fields analysts filter on. Pure.
import { type ExportRecord, recordActor, recordTime } from './record.js';
import { cleanDeep } from './sanitize.js';

export interface SplunkHecOptions {
  /** @defaultValue 'vigil' */
  readonly host?: string;
  /** @defaultValue 'vigil' */
  readonly source?: string;
  /** Omitted when unset: the token's default index applies. */
  readonly index?: string;
}

export interface SplunkHecEvent {
  /** Epoch seconds with millisecond decimals, as HEC expects. */
  time: number;
  host: string;
  source: string;
  sourcetype: string;
  index?: string;
  event: Record<string, unknown>;
  /** Indexed fields: HEC accepts only strings (or arrays of strings) here. */
  fields: Record<string, string | string[]>;
}

export function toSplunkHec(record: ExportRecord, opts: SplunkHecOptions = {}): SplunkHecEvent {
  const fields: Record<string, string | string[]> = { tenant: record.value.tenant, vigil_kind: record.kind };
  const actor = recordActor(record);
  if (actor) fields.actor = actor;
  const event: Record<string, unknown> = { kind: record.kind, ...record.value };
  switch (record.kind) {
    case 'finding':
      fields.severity = record.value.severity;
      fields.detector = record.value.detector;
      if (record.value.attack_techniques.length) fields.attack_technique = record.value.attack_techniques;
      break;
    case 'incident':
      fields.severity = record.value.severity;
      fields.status = record.value.status;
      break;
    case 'event':
      fields.operation = record.value.operation;
      fields.outcome = record.value.outcome;
      fields.system = record.value.system;
      break;
    case 'action':
      event.actor = actor;
      fields.action_kind = record.value.kind;
      fields.outcome = record.value.outcome;
      break;
  }
  return cleanDeep({
    time: recordTime(record) / 1000,
    host: opts.host ?? 'vigil',
    source: opts.source ?? 'vigil',
    sourcetype: `vigil:${record.kind}`,
    ...(opts.index ? { index: opts.index } : {}),
    event,
    fields,
  });
}
