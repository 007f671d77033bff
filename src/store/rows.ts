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
