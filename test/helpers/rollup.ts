// What the store's per-minute rollup would teach a bootstrapping detector about one identity: the
// IdentityHistory that identityHistory() reads from events_1m, computed here from the events.
import type { IdentityHistory, HourlyUse } from '../../src/detect/index.js';
import type { AccessEvent } from '../../src/model/index.js';

const HOUR = 3_600_000;

export function historyOf(
  events: readonly AccessEvent[],
  tenant: string,
  actor: string,
  before: number,
  windowMs = 600_000,
): IdentityHistory {
  const windows = new Map<number, number>();
  const hourly = new Map<string, HourlyUse & { requests: number }>();
  for (const e of events) {
    if (e.tenant !== tenant || e.actor !== actor || e.time >= before) continue;
    const start = Math.floor(e.time / windowMs) * windowMs;
    windows.set(start, (windows.get(start) ?? 0) + 1);
    const hour = Math.floor(e.time / HOUR) * HOUR;
    const key = `${hour}\u0000${e.collection}\u0000${e.operation}`;
    const row = hourly.get(key) ?? {
      hour,
      collection: e.collection,
      operation: e.operation,
      requests: 0,
      returned: 0,
      vectorsReturned: 0,
      bytesOut: 0,
      denied: 0,
      errors: 0,
    };
    hourly.set(key, {
      ...row,
      requests: row.requests + 1,
      returned: row.returned + e.returned,
      vectorsReturned: row.vectorsReturned + e.vectors_returned,
      bytesOut: row.bytesOut + e.bytes_out,
      denied: row.denied + (e.outcome === 'denied' ? 1 : 0),
      errors: row.errors + (e.outcome === 'error' ? 1 : 0),
    });
  }
  return {
    windowMs,
    rows: [...windows].sort((a, b) => a[0] - b[0]).map(([start, requests]) => ({ start, requests })),
    hourly: [...hourly.values()].sort((a, b) => a.hour - b.hour),
  };
}
