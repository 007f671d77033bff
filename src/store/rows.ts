// Mapping between the model (epoch-ms numbers) and ClickHouse rows (DateTime64 text).
import type { AccessEvent, Action, Finding, Incident } from '../model/index.js';
import { chTime } from './client.js';

export function eventRow(e: AccessEvent): Record<string, unknown> {
  return { ...e, time: chTime(e.time), observed_time: chTime(e.observed_time) };
}

export function findingRow(f: Finding): Record<string, unknown> {
  return {
    ...f,
    event_time: chTime(f.event_time),
    first_fired_time: chTime(f.first_fired_time),
    detected_time: chTime(f.detected_time),
    first_observed_time: chTime(f.first_observed_time),
  };
}

export function incidentRow(i: Incident): Record<string, unknown> {
  return {
    ...i,
    opened_time: chTime(i.opened_time),
    last_event_time: chTime(i.last_event_time),
    updated_time: chTime(i.updated_time),
  };
}

export function actionRow(a: Action): Record<string, unknown> {
  return { ...a, time: chTime(a.time) };
}

/**
 * A findings row (times already epoch-ms numbers) into the model. A row stored before findings kept
 * their history (migration 008) has zeros there: one issue, first fired at its event time.
 */
export function findingFromRow(row: Record<string, unknown>): Finding {
  const f = row as unknown as Finding;
  const eventTime = Number(f.event_time);
  return {
    ...f,
    event_time: eventTime,
    first_fired_time: Number(f.first_fired_time) || eventTime,
    update_count: Number(f.update_count) || 1,
    detected_time: Number(f.detected_time),
    first_observed_time: Number(f.first_observed_time),
  };
}

/** An incidents row into the model; one stored before migration 008 last heard of a finding when it opened. */
export function incidentFromRow(row: Record<string, unknown>): Incident {
  const i = row as unknown as Incident;
  const opened = Number(i.opened_time);
  return {
    ...i,
    opened_time: opened,
    last_event_time: Number(i.last_event_time) || opened,
    updated_time: Number(i.updated_time),
  };
}
