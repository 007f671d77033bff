// The history the store's `identityHistory` (src/store/history.ts) answers for an identity, computed
// from events in memory instead: for runs without a store (the quality benchmark's restart without
// checkpoints) and as the definition the store's query is tested against (test/helpers/rollup.ts).
// It lives with the benchmark, not in src/detect: it counts failures as auth-failures does and
// keeps what the registry's detectors need, and the detect stage must not depend on detectors.
// Events are added in any order; an identity's history holds whatever was added for it, and its
// credentials' hours whatever was added for them (by any identity of the tenant).
import { isAuthFailure } from '../../detectors/auth-failures/auth-failures.detector.js';
import { HISTORY_NEEDS } from '../../detectors/index.js';
import {
  type CredentialHour,
  credentialHistorySince,
  HOURLY_BYTES,
  HOURLY_RETURNED,
  HOURLY_VECTORS,
  type HistoryNeeds,
  type HourlyEvents,
  type HourlyUse,
  type IdentityHistory,
  type NetworkUse,
} from '../../src/detect/index.js';
import type { AccessEvent } from '../../src/model/index.js';

const HOUR = 3_600_000;

interface Accumulated {
  readonly windows: Map<number, number>;
  readonly hourly: Map<string, HourlyUse>;
  readonly perWindow: Map<number, { topK: number; failures: number }>;
  readonly networks: Map<string, { network: string; firstSeen: number; lastSeen: number }>;
  /** Credentials the identity used, each with its last use. */
  readonly credentials: Map<string, number>;
}

/** Users of one credential in one hour. */
interface CredentialUsers {
  readonly actors: Set<string>;
  readonly networks: Set<string>;
}

export interface HistoryAccumulator {
  add(e: AccessEvent): void;
  /**
   * What was added for the identity, as `identityHistory` gives it for `before` (undefined:
   * nothing); only the credentials' hours depend on `before` (events at or after it are expected
   * not to have been added).
   */
  historyOf(tenant: string, actor: string, before: number): IdentityHistory | undefined;
}

/**
 * Accumulates per identity; `windowMs` is the detection window the counts are kept by, `needs` how
 * many credentials and hours the store's history keeps (the registry's by default).
 */
export function createHistoryAccumulator(
  windowMs = 600_000,
  needs: HistoryNeeds = HISTORY_NEEDS,
): HistoryAccumulator {
  const identities = new Map<string, Accumulated>();
  const keyOf = (tenant: string, actor: string) => `${tenant}\u0000${actor}`;
  /** Per tenant and credential, its users per hour (by the hour's start). */
  const credentialHours = new Map<string, Map<number, CredentialUsers>>();
  /** The identity's most recently used credentials, each with its most recent hours, oldest first. */
  function credentialsOf(tenant: string, a: Accumulated, before: number): CredentialHour[] {
    const since = credentialHistorySince(before, needs);
    const used = [...a.credentials]
      .filter(([, last]) => last >= since && last < before)
      .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))
      .slice(0, needs.credentialsPerIdentity);
    const out: CredentialHour[] = [];
    for (const [credential] of used) {
      const hours = [...(credentialHours.get(keyOf(tenant, credential)) ?? [])]
        .filter(([hour]) => hour >= since && hour < before)
        .sort((x, y) => y[0] - x[0])
        .slice(0, needs.hoursPerCredential);
      for (const [hour, users] of hours)
        out.push({ credential, hour, actors: users.actors.size, networks: users.networks.size });
    }
    return out.sort(
      (x, y) => x.hour - y.hour || (x.credential < y.credential ? -1 : x.credential > y.credential ? 1 : 0),
    );
  }

  return {
    add(e) {
      // Pending requests have not run: not access, as in the store's history (history.ts).
      if (e.outcome === 'pending') return;
      const id = keyOf(e.tenant, e.actor);
      let a = identities.get(id);
      if (!a) {
        a = {
          windows: new Map(),
          hourly: new Map(),
          perWindow: new Map(),
          networks: new Map(),
          credentials: new Map(),
        };
        identities.set(id, a);
      }
      const start = Math.floor(e.time / windowMs) * windowMs;
      a.windows.set(start, (a.windows.get(start) ?? 0) + 1);
      let w = a.perWindow.get(start);
      if (!w) {
        w = { topK: 0, failures: 0 };
        a.perWindow.set(start, w);
      }
      if (e.outcome === 'allowed' && e.top_k !== null) w.topK = Math.max(w.topK, e.top_k);
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
      if (e.credential) {
        a.credentials.set(e.credential, Math.max(a.credentials.get(e.credential) ?? 0, e.time));
        const ck = keyOf(e.tenant, e.credential);
        let hours = credentialHours.get(ck);
        if (!hours) {
          hours = new Map();
          credentialHours.set(ck, hours);
        }
        let users = hours.get(hour);
        if (!users) {
          users = { actors: new Set(), networks: new Set() };
          hours.set(hour, users);
        }
        users.actors.add(e.actor);
        if (e.src_net) users.networks.add(e.src_net);
      }
      const key = `${hour}\u0000${e.collection}\u0000${e.operation}`;
      const row = a.hourly.get(key);
      a.hourly.set(key, {
        hour,
        collection: e.collection,
        operation: e.operation,
        requests: (row?.requests ?? 0) + 1,
        // Unknown (null) counts add nothing, as sum() over the store's Nullable columns.
        returned: (row?.returned ?? 0) + (e.returned ?? 0),
        vectorsReturned: (row?.vectorsReturned ?? 0) + (e.vectors_returned ?? 0),
        bytesOut: (row?.bytesOut ?? 0) + (e.bytes_out ?? 0),
        denied: (row?.denied ?? 0) + (e.outcome === 'denied' ? 1 : 0),
        errors: (row?.errors ?? 0) + (e.outcome === 'error' ? 1 : 0),
        reported:
          (row?.reported ?? 0) |
          (e.returned !== null ? HOURLY_RETURNED : 0) |
          (e.vectors_returned !== null ? HOURLY_VECTORS : 0) |
          (e.bytes_out !== null ? HOURLY_BYTES : 0),
      });
    },
    historyOf(tenant, actor, before) {
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
        credentials: credentialsOf(tenant, a, before),
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
  // Every identity of the tenant: the credentials' hours count all their users.
  for (const e of events) if (e.tenant === tenant && e.time < before) acc.add(e);
  return (
    acc.historyOf(tenant, actor, before) ?? {
      windowMs,
      rows: [],
      hourly: [],
      events: [],
      networks: [],
      credentials: [],
    }
  );
}
