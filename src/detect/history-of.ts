// The history the store's `identityHistory` (src/store/history.ts) answers for an identity, computed
// from events in memory instead: for runs without a store (the quality benchmark's restart without
// checkpoints) and as the definition the store's query is tested against. Events are added in any
// order; an identity's history holds whatever was added for it.
import { isAuthFailure } from '../../detectors/auth-failures/auth-failures.detector.js';
import type { AccessEvent } from '../model/index.js';
import type { HourlyEvents, HourlyUse, IdentityHistory, NetworkUse } from './detector.js';

const HOUR = 3_600_000;

interface Accumulated {
  readonly windows: Map<number, number>;
  readonly hourly: Map<string, HourlyUse>;
  readonly perWindow: Map<number, { topK: number; failures: number }>;
  readonly networks: Map<string, { network: string; firstSeen: number; lastSeen: number }>;
}

export interface HistoryAccumulator {
  add(e: AccessEvent): void;
  /** What was added for the identity, as `identityHistory` gives it (undefined: nothing). */
  historyOf(tenant: string, actor: string): IdentityHistory | undefined;
}

/** Accumulates per identity; `windowMs` is the detection window the counts are kept by. */
export function createHistoryAccumulator(windowMs = 600_000): HistoryAccumulator {
  const identities = new Map<string, Accumulated>();
  const keyOf = (tenant: string, actor: string) => `${tenant}\u0000${actor}`;
  return {
    add(e) {
      const id = keyOf(e.tenant, e.actor);
      let a = identities.get(id);
      if (!a) {
        a = { windows: new Map(), hourly: new Map(), perWindow: new Map(), networks: new Map() };
        identities.set(id, a);
      }
      const start = Math.floor(e.time / windowMs) * windowMs;
      a.windows.set(start, (a.windows.get(start) ?? 0) + 1);
      let w = a.perWindow.get(start);
      if (!w) {
        w = { topK: 0, failures: 0 };
        a.perWindow.set(start, w);
      }
      if (e.outcome === 'allowed') w.topK = Math.max(w.topK, e.top_k);
      if (isAuthFailure(e)) w.failures++;
      if (e.src_net) {
        const n = a.networks.get(e.src_net);
        if (!n) a.networks.set(e.src_net, { network: e.src_net, firstSeen: e.time, lastSeen: e.time });
        else {
          n.firstSeen = Math.min(n.firstSeen, e.time);
          n.lastSeen = Math.max(n.lastSeen, e.time);
        }
      }
      const hour = Math.floor(e.time / HOUR) * HOUR;
      const key = `${hour}\u0000${e.collection}\u0000${e.operation}`;
      const row = a.hourly.get(key);
      a.hourly.set(key, {
        hour,
        collection: e.collection,
        operation: e.operation,
        requests: (row?.requests ?? 0) + 1,
        returned: (row?.returned ?? 0) + e.returned,
        vectorsReturned: (row?.vectorsReturned ?? 0) + e.vectors_returned,
        bytesOut: (row?.bytesOut ?? 0) + e.bytes_out,
        denied: (row?.denied ?? 0) + (e.outcome === 'denied' ? 1 : 0),
        errors: (row?.errors ?? 0) + (e.outcome === 'error' ? 1 : 0),
      });
    },
    historyOf(tenant, actor) {
      const a = identities.get(keyOf(tenant, actor));
      if (!a) return undefined;
      const perHour = new Map<number, { hour: number; maxTopK: number; failurePeak: number }>();
      for (const [start, w] of a.perWindow) {
        const hour = Math.floor(start / HOUR) * HOUR;
        const h = perHour.get(hour) ?? { hour, maxTopK: 0, failurePeak: 0 };
        perHour.set(hour, h);
        h.maxTopK = Math.max(h.maxTopK, w.topK);
        h.failurePeak = Math.max(h.failurePeak, w.failures);
      }
      return {
        windowMs,
        rows: [...a.windows].sort((x, y) => x[0] - y[0]).map(([start, requests]) => ({ start, requests })),
        hourly: [...a.hourly.values()].sort((x, y) => x.hour - y.hour),
        events: [...perHour.values()].sort((x, y) => x.hour - y.hour) satisfies HourlyEvents[],
        networks: [...a.networks.values()]
          .map((n) => ({ ...n }))
          .sort(
            (x, y) => x.lastSeen - y.lastSeen || (x.network < y.network ? -1 : x.network > y.network ? 1 : 0),
          ) satisfies NetworkUse[],
      };
    },
  };
}

/** The history of one identity from these events, those before `before` only. */
export function historyOf(
  events: readonly AccessEvent[],
  tenant: string,
  actor: string,
  before: number,
  windowMs = 600_000,
): IdentityHistory {
  const acc = createHistoryAccumulator(windowMs);
  for (const e of events) if (e.tenant === tenant && e.actor === actor && e.time < before) acc.add(e);
  return acc.historyOf(tenant, actor) ?? { windowMs, rows: [], hourly: [], events: [], networks: [] };
}
