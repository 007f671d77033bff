// OCSF mapping: every mapped object carries the attributes its class requires (the table below,
// from the OCSF schema), with type_uid = class_uid × 100 + activity_id.
import { describe, expect, it } from 'vitest';
import { type ExportRecord, OCSF_VERSION, toOcsf } from '../../../src/export/index.js';
import { ACTION_OUTCOMES, INCIDENT_STATUSES, OPERATIONS, OUTCOMES } from '../../../src/model/index.js';
import { makeEvent, makeFinding } from '../../helpers/factories.js';
import { makeAction, makeIncident } from '../../helpers/export-records.js';

/** Required attributes: every class, then per class (dotted paths must hold a non-empty value). */
const REQUIRED = {
  base: [
    'activity_id',
    'category_uid',
    'class_uid',
    'type_uid',
    'severity_id',
    'time',
    'metadata',
    'metadata.product',
    'metadata.product.name',
    'metadata.product.vendor_name',
    'metadata.version',
  ],
  2004: ['finding_info', 'finding_info.uid', 'finding_info.title'],
  6003: ['actor', 'api', 'api.operation', 'src_endpoint'],
  3001: ['user'],
} as const;
const CATEGORY = { 2004: 2, 6003: 6, 3001: 3 } as const;
const SEVERITY_IDS = [0, 1, 2, 3, 4, 5, 6, 99];

function at(obj: unknown, dotted: string): unknown {
  return dotted
    .split('.')
    .reduce<unknown>(
      (o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined),
      obj,
    );
}

function missing(o: Record<string, unknown>): string[] {
  const cls = o.class_uid as keyof typeof CATEGORY;
  const paths = [...REQUIRED.base, ...(REQUIRED[cls] ?? ['(unknown class)'])];
  return paths.filter((p) => {
    const v = at(o, p);
    return (
      v === undefined || v === null || v === '' || (typeof v === 'object' && Object.keys(v).length === 0)
    );
  });
}

const records: ExportRecord[] = [
  ...(['low', 'medium', 'high', 'critical'] as const).map(
    (severity): ExportRecord => ({ kind: 'finding', value: makeFinding({ severity }) }),
  ),
  ...INCIDENT_STATUSES.map(
    (status, i): ExportRecord => ({
      kind: 'incident',
      value: makeIncident({ status, updated_time: makeIncident().opened_time + i * 1000 }),
    }),
  ),
  ...OPERATIONS.flatMap((operation) =>
    OUTCOMES.map((outcome): ExportRecord => ({ kind: 'event', value: makeEvent({ operation, outcome }) })),
  ),
  // An event with every optional identifier empty still has an actor, an API operation and a source.
  {
    kind: 'event',
    value: makeEvent({ src_ip: '', src_net: '', operation_raw: '', session: '', client: '' }),
  },
  ...ACTION_OUTCOMES.flatMap((outcome) =>
    ['revoke', 'disable', 'webhook'].map(
      (kind): ExportRecord => ({ kind: 'action', value: makeAction({ kind, outcome }), actor: 'usr_k1_a' }),
    ),
  ),
  { kind: 'action', value: makeAction(), actor: undefined },
];

describe('toOcsf', () => {
  it.each(records.map((r, i) => [i, r.kind, r] as const))(
    'record %i (%s) has every attribute its class requires',
    (_i, _kind, record) => {
      const o = toOcsf(record, { productVersion: '9.9.9' });
      expect(missing(o)).toEqual([]);
      expect(o.type_uid).toBe(o.class_uid * 100 + o.activity_id);
      expect(o.category_uid).toBe(CATEGORY[o.class_uid as keyof typeof CATEGORY]);
      expect(SEVERITY_IDS).toContain(o.severity_id);
      expect(Number.isInteger(o.time)).toBe(true);
      expect(o.metadata).toMatchObject({
        product: { name: 'vigil', vendor_name: 'vigil', version: '9.9.9' },
        version: OCSF_VERSION,
      });
    },
  );

  it('maps each kind to its class', () => {
    const cls = (r: ExportRecord) => toOcsf(r).class_uid;
    expect(cls({ kind: 'finding', value: makeFinding() })).toBe(2004);
    expect(cls({ kind: 'incident', value: makeIncident() })).toBe(2004);
    expect(cls({ kind: 'event', value: makeEvent() })).toBe(6003);
    expect(cls({ kind: 'action', value: makeAction() })).toBe(3001);
  });

  it('describes a finding with its title, sentence, detector and ATT&CK techniques', () => {
    const f = makeFinding({ severity: 'high', attack_techniques: ['T1530', 'T1213'] });
    const o = toOcsf({ kind: 'finding', value: f });
    expect(o.severity_id).toBe(4);
    expect(o.activity_id).toBe(1);
    expect(o.type_uid).toBe(200401);
    expect(o.finding_info).toMatchObject({
      uid: f.finding_id,
      title: f.title,
      desc: f.sentence,
      analytic: { name: 'volume-spike' },
      attacks: [{ technique: { uid: 'T1530' } }, { technique: { uid: 'T1213' } }],
    });
    expect(o.time).toBe(f.detected_time);
  });

  it('spans a re-issued finding from its first firing to its latest issue', () => {
    const f = makeFinding();
    const o = toOcsf({
      kind: 'finding',
      value: { ...f, first_fired_time: f.event_time - 600_000, update_count: 3 },
    });
    expect(o.finding_info).toMatchObject({
      first_seen_time: f.event_time - 600_000,
      last_seen_time: f.event_time,
    });
  });

  it('tells incident creation, update and closing apart', () => {
    const opened = makeIncident();
    const act = (i: typeof opened) => toOcsf({ kind: 'incident', value: i }).activity_id;
    expect(act(opened)).toBe(1);
    expect(act({ ...opened, updated_time: opened.opened_time + 60_000, status: 'contained' })).toBe(2);
    expect(act({ ...opened, updated_time: opened.opened_time + 60_000, status: 'resolved' })).toBe(3);
    // A replay opens an incident in the past (event time) and writes it now: still a creation.
    expect(act({ ...opened, updated_time: opened.opened_time + 30 * 86_400_000 })).toBe(1);
    expect(act({ ...opened, last_event_time: opened.opened_time + 60_000 })).toBe(2);
  });

  it('maps access events onto API Activity read / update / delete with success or failure', () => {
    const o = (op: (typeof OPERATIONS)[number], outcome: (typeof OUTCOMES)[number] = 'allowed') =>
      toOcsf({
        kind: 'event',
        value: makeEvent({ operation: op, operation_raw: `raw_${op}`, outcome }),
      }) as Record<string, unknown>;
    expect(o('search').activity_id).toBe(2);
    expect(o('upsert').activity_id).toBe(3);
    expect(o('drop_collection').type_uid).toBe(600304);
    expect(o('create_collection').activity_id).toBe(1);
    expect(o('auth').activity_id).toBe(99);
    expect(o('search').status_id).toBe(1);
    expect(o('search', 'denied').status_id).toBe(2);
    expect(o('search').api).toMatchObject({ operation: 'raw_search', service: { name: 'qdrant' } });
  });

  it('never puts a token where OCSF expects an IP address', () => {
    const o = toOcsf({ kind: 'event', value: makeEvent({ src_ip: 'ip_k1_9f8e', src_net: 'net_k1_77' }) });
    expect(o.src_endpoint).toEqual({ uid: 'ip_k1_9f8e', subnet_uid: 'net_k1_77' });
    expect(JSON.stringify(o)).not.toContain('"ip"');
  });

  it('maps containment to Account Change disable / delete, and an undo to enable', () => {
    const act = (kind: string, outcome: (typeof ACTION_OUTCOMES)[number] = 'succeeded') =>
      toOcsf({ kind: 'action', value: makeAction({ kind, outcome }), actor: 'usr_k1_x' });
    expect(act('revoke').activity_id).toBe(6);
    expect(act('disable').activity_id).toBe(5);
    expect(act('revoke', 'undone').activity_id).toBe(2);
    expect(act('webhook').activity_id).toBe(99);
    expect(act('revoke').user).toEqual({ uid: 'usr_k1_x' });
    expect(act('revoke', 'failed').status_id).toBe(2);
  });

  it('strips terminal escape sequences from every string it carries', () => {
    const o = toOcsf({
      kind: 'finding',
      value: makeFinding({ title: 'a\u001b[2Jb\u001b]0;pwned\u0007c', collection: 'x\u202ey' }),
    });
    const text = JSON.stringify(o);
    expect(text).not.toMatch(/\\u001b|\\u0007|\u202e/);
    expect((o.finding_info as { title: string }).title).toBe('abc');
  });
});
