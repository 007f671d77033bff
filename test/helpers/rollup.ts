// What the store would teach a bootstrapping detector about one identity: the IdentityHistory that
// identityHistory() reads from events_1m and the events, computed here from the events.
import { isAuthFailure } from '../../detectors/auth-failures/auth-failures.detector.js';
import type { HourlyEvents, HourlyUse, IdentityHistory, NetworkUse } from '../../src/detect/index.js';
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
  const perWindow = new Map<number, { topK: number; failures: number }>();
  const networks = new Map<string, { network: string; firstSeen: number; lastSeen: number }>();
  for (const e of events) {
    if (e.tenant !== tenant || e.actor !== actor || e.time >= before) continue;
    const start = Math.floor(e.time / windowMs) * windowMs;
    windows.set(start, (windows.get(start) ?? 0) + 1);
    const w = perWindow.get(start) ?? { topK: 0, failures: 0 };
    perWindow.set(start, w);
    if (e.outcome === 'allowed') w.topK = Math.max(w.topK, e.top_k);
    if (isAuthFailure(e)) w.failures++;
    if (e.src_net) {
      const n = networks.get(e.src_net) ?? { network: e.src_net, firstSeen: e.time, lastSeen: e.time };
      networks.set(e.src_net, n);
      n.firstSeen = Math.min(n.firstSeen, e.time);
      n.lastSeen = Math.max(n.lastSeen, e.time);
    }
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
  const perHour = new Map<number, { hour: number; maxTopK: number; failurePeak: number }>();
  for (const [start, w] of perWindow) {
    const hour = Math.floor(start / HOUR) * HOUR;
    const h = perHour.get(hour) ?? { hour, maxTopK: 0, failurePeak: 0 };
    perHour.set(hour, h);
    h.maxTopK = Math.max(h.maxTopK, w.topK);
    h.failurePeak = Math.max(h.failurePeak, w.failures);
  }
  return {
    windowMs,
    rows: [...windows].sort((a, b) => a[0] - b[0]).map(([start, requests]) => ({ start, requests })),
    hourly: [...hourly.values()].sort((a, b) => a.hour - b.hour),
    events: [...perHour.values()].sort((a, b) => a.hour - b.hour) satisfies HourlyEvents[],
    networks: [...networks.values()].sort(
      (a, b) => a.lastSeen - b.lastSeen || (a.network < b.network ? -1 : a.network > b.network ? 1 : 0),
    ) satisfies NetworkUse[],
  };
}
