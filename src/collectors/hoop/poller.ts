// Polls hoop.dev's sessions API for what its webhooks do not carry: review decisions, guardrail
// blocks, data masking, AI risk analysis, machine identities. One event per session with its own
// id ('hoop-api', session id), so polling a session again (it may still be running, or waiting
// for review) replaces its row instead of adding one, and it never collides with webhook events.
//
// What the API does (hoophq/hoop e939597, gateway/api/session/{session.go,list_options.go,parser.go},
// gateway/models/session.go):
// - `GET /api/sessions` lists newest first (`ORDER BY created_at DESC`), filters
//   `created_at BETWEEN start_date AND end_date` (RFC 3339, read to the second), pages with
//   `limit` ≤ 100 and `offset` ≤ 10,000 (a deeper offset is a 422), and blanks `script` and
//   `ai_analysis` in the list. So each listed session is read again with
//   `GET /api/sessions/{id}?expand=session_input` (script and AI analysis, no event stream).
// - Paging newest first over a moving "now" would shift pages, so a poll reads a window with a
//   fixed upper bound. When the offset would pass 10,000 the window's upper bound moves down to
//   the oldest session read (rounded up to its second, so none is lost to the truncation) and the
//   offset restarts at 0. More than 10,000 sessions within one second cannot be paged: they are
//   counted (`hoop_poll_sessions_skipped`) and logged with the window, never skipped silently.
// - A poll reads at most `maxPages` pages; a window not finished is resumed by the next poll
//   (older part first), and the checkpoint moves only when a window is finished.
// - API keys: `hpk_…` keys and access tokens go as `Authorization: Bearer`; legacy keys
//   (`xapi-…`, `org|key`) are accepted only in the `Api-Key` header (gateway/api/apiroutes/auth.go).
//
// At-least-once: the checkpoint advances only after a window's events are durable; a failed poll
// is retried from the same state at the next interval. Sessions not yet done hold the checkpoint
// back (for at most `revisitMs`). Sessions waiting for review are read again by id every poll
// until decided (for at most `pendingMaxAgeMs`): their `pending` row is then replaced by the
// outcome. Bounded: page count, detail concurrency, pending set size, response size, timeouts;
// stop() aborts a request in flight and waits for the poll to end.
import type { AccessEvent } from '../../model/index.js';
import { errorMessage } from '../../model/index.js';
import type { CollectorDeps } from '../deps.js';
import { isExpiredReason } from '../normalize.js';
import { normalizeHoopApiSession } from './hoop.normalizer.js';
import { hoopSessionListSchema } from './hoop.schema.js';

export interface HoopPollerDeps
  extends Pick<CollectorDeps, 'ingest' | 'tokenizer' | 'metrics' | 'logger' | 'now' | 'retentionDays'> {
  /** @defaultValue the global fetch */
  readonly fetch?: typeof fetch;
}

export interface HoopPollerOptions {
  /** Base URL of the hoop.dev gateway (`https://use.hoop.dev` or its `/api` URL). */
  readonly apiUrl: string;
  /** API key or access token (Bearer), or a legacy `xapi-…` key (Api-Key header). */
  readonly apiToken: string;
  readonly intervalMs: number;
  readonly tenant: string;
  readonly deps: HoopPollerDeps;
  /** How far back the first poll looks. @defaultValue 3600000 (1 h) */
  readonly initialLookbackMs?: number;
  /** How long a session not yet done keeps the checkpoint from moving past it. @defaultValue 3600000 */
  readonly revisitMs?: number;
  /** How long a session waiting for review is read again. @defaultValue 604800000 (7 days) */
  readonly pendingMaxAgeMs?: number;
  /** @defaultValue 10000 */
  readonly requestTimeoutMs?: number;
  /** The API's page size limit is 100. @defaultValue 100 */
  readonly pageSize?: number;
  /** @defaultValue 50 */
  readonly maxPages?: number;
  /** Session detail requests in flight at once. @defaultValue 4 */
  readonly detailConcurrency?: number;
  /** The deepest offset the API serves (upstream MaxSessionListOffset). @defaultValue 10000 */
  readonly maxListOffset?: number;
}

export interface PollResult {
  readonly sessions: number;
  readonly accepted: number;
  readonly rejected: number;
}

export interface HoopPoller {
  /** Polls now, then every `intervalMs` (a poll never overlaps the previous one). */
  start(): void;
  /** Stops polling; aborts a request in flight and resolves when the current poll has ended. */
  stop(): Promise<void>;
  /** One poll: up to `maxPages` pages of the current window, then the sessions awaiting review. */
  pollOnce(): Promise<PollResult>;
  /** The start_date the next window asks from. */
  readonly checkpoint: () => string | undefined;
}

/** Largest response body read from the API (a page of 100 sessions with 10 KB scripts fits easily). */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
/** gateway/models/session.go MaxSessionListOffset. */
export const HOOP_MAX_LIST_OFFSET = 10_000;
/**
 * The checkpoint stays this far behind a finished window's top: a session created just before the
 * poll but committed after the list query is read by the next window (it is read twice at most,
 * and folds into one row by its event id).
 */
const CHECKPOINT_OVERLAP_MS = 30_000;
/** Sessions awaiting review remembered at most (the oldest is dropped, counted, beyond). */
const MAX_PENDING = 10_000;
/** Sessions awaiting review read again per poll at most. */
const PENDING_PER_POLL = 200;

function apiBase(apiUrl: string): string {
  const base = apiUrl.replace(/\/+$/, '');
  return base.endsWith('/api') ? base : `${base}/api`;
}

/** Legacy keys (`xapi-…`, or the older `org-id|key`) authenticate only through `Api-Key`. */
export function hoopAuthHeaders(token: string): Record<string, string> {
  return token.startsWith('xapi-') || token.includes('|')
    ? { 'api-key': token }
    : { authorization: `Bearer ${token}` };
}

/** RFC 3339 to the second, as the API reads it; `up` rounds a time with milliseconds up. */
function toSecond(ms: number, up = false): string {
  const s = up ? Math.ceil(ms / 1000) : Math.floor(ms / 1000);
  return new Date(s * 1000).toISOString().replace('.000Z', 'Z');
}

class NotFound extends Error {
  override readonly name = 'NotFound';
}

export function createHoopPoller(opts: HoopPollerOptions): HoopPoller {
  const { deps } = opts;
  const doFetch = deps.fetch ?? fetch;
  const pageSize = Math.min(opts.pageSize ?? 100, 100);
  const maxPages = opts.maxPages ?? 50;
  const timeoutMs = opts.requestTimeoutMs ?? 10_000;
  const revisitMs = opts.revisitMs ?? 3_600_000;
  const pendingMaxAgeMs = opts.pendingMaxAgeMs ?? 7 * 86_400_000;
  const concurrency = Math.max(1, opts.detailConcurrency ?? 4);
  const maxOffset = opts.maxListOffset ?? HOOP_MAX_LIST_OFFSET;
  const base = apiBase(opts.apiUrl);
  const headers = { ...hoopAuthHeaders(opts.apiToken), accept: 'application/json' };
  const now = () => deps.now?.() ?? Date.now();

  let checkpoint: string | undefined;
  /** A window not finished by the last poll: its remaining (older) part and where it started. */
  let resume: { until: string; top: number } | undefined;
  /** Sessions awaiting review → when first seen. */
  const pending = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = false;
  const abort = new AbortController();

  async function getJson(u: URL): Promise<unknown> {
    const res = await doFetch(u, {
      headers,
      signal: AbortSignal.any([abort.signal, AbortSignal.timeout(timeoutMs)]),
    });
    if (!res.ok) {
      await res.body?.cancel();
      if (res.status === 404) throw new NotFound('hoop sessions API answered 404');
      throw new Error(`hoop sessions API answered ${res.status}`);
    }
    const text = await res.text();
    if (text.length > MAX_RESPONSE_BYTES) throw new Error('hoop sessions API response exceeds 16 MiB');
    return JSON.parse(text);
  }

  async function fetchPage(since: string, until: string, offset: number) {
    const u = new URL(`${base}/sessions`);
    u.searchParams.set('start_date', since);
    u.searchParams.set('end_date', until);
    u.searchParams.set('limit', String(pageSize));
    u.searchParams.set('offset', String(offset));
    const doc = await getJson(u);
    // Older gateways answer a bare array; current ones {data, total, has_next_page}.
    if (Array.isArray(doc)) return { items: doc as unknown[], hasNext: doc.length >= pageSize };
    const env = hoopSessionListSchema.safeParse(doc);
    if (!env.success) throw new Error('hoop sessions API answered an unknown shape');
    const items = env.data.data ?? [];
    return { items, hasNext: env.data.has_next_page ?? items.length >= pageSize };
  }

  /** The full session (script, AI analysis); undefined when it no longer exists. */
  async function fetchDetail(id: string): Promise<unknown | undefined> {
    const u = new URL(`${base}/sessions/${encodeURIComponent(id)}`);
    u.searchParams.set('expand', 'session_input');
    try {
      return await getJson(u);
    } catch (err) {
      if (err instanceof NotFound) return undefined;
      throw err;
    }
  }

  /** Each item read again by id (bounded concurrency); the list item where the detail is gone. */
  async function withDetails(items: unknown[]): Promise<unknown[]> {
    const out: unknown[] = new Array(items.length);
    let next = 0;
    const worker = async () => {
      while (next < items.length && !stopped) {
        const i = next++;
        const item = items[i];
        const id = (item as { id?: unknown } | null)?.id;
        if (typeof id !== 'string' || id === '') {
          out[i] = item;
          continue;
        }
        const detail = await fetchDetail(id);
        if (detail === undefined) deps.metrics.inc('hoop_poll_detail_missing');
        out[i] = detail ?? item;
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
    return out;
  }

  interface Tally {
    sessions: number;
    accepted: number;
    rejected: number;
    /** Session ids read in this poll. */
    readonly read: Set<string>;
  }

  /** Normalizes sessions, makes them durable, tracks pending reviews; returns their start times. */
  async function ingest(
    items: unknown[],
    tally: Tally,
    t0: number,
  ): Promise<{ times: number[]; open: number[] }> {
    const events: AccessEvent[] = [];
    const times: number[] = [];
    const open: number[] = [];
    for (const item of items) {
      const r = normalizeHoopApiSession(item, {
        tokenizer: deps.tokenizer,
        tenant: opts.tenant,
        now: now(),
        retentionDays: deps.retentionDays,
      });
      if (!r.ok) {
        tally.rejected++;
        if (isExpiredReason(r.reason)) deps.metrics.inc('ingest_rejected_expired');
        deps.logger.warn({ reason: r.reason }, 'hoop session skipped');
        continue;
      }
      events.push(r.value);
      times.push(r.value.time);
      const { id, status } = item as { id: string; status?: unknown };
      tally.read.add(id);
      if (r.value.outcome === 'pending') {
        if (!pending.has(id)) pending.set(id, t0);
      } else pending.delete(id);
      if (status !== 'done' && r.value.time >= t0 - revisitMs) open.push(r.value.time);
    }
    tally.sessions += items.length;
    // Durable before the checkpoint may move past these sessions.
    await deps.ingest.submit(events);
    tally.accepted += events.length;
    return { times, open };
  }

  async function pollWindow(tally: Tally, t0: number): Promise<void> {
    const since = checkpoint ?? toSecond(t0 - (opts.initialLookbackMs ?? 3_600_000));
    const top = resume?.top ?? t0;
    let until = resume?.until ?? toSecond(top, true);
    let offset = 0;
    let oldest = Number.POSITIVE_INFINITY;
    let earliestOpen = Number.POSITIVE_INFINITY;
    let done = false;
    for (let page = 0; page < maxPages && !stopped; page++) {
      if (offset > maxOffset) {
        // Narrow the window to what is older than the sessions read; restart the offset.
        const narrowed = toSecond(oldest, true);
        if (!(oldest < Number.POSITIVE_INFINITY) || narrowed >= until) {
          // More than 10,000 sessions within one second: the API cannot page them.
          deps.metrics.inc('hoop_poll_sessions_skipped');
          deps.logger.error(
            { since, until, offset },
            'hoop sessions API: more sessions within one second than its offset limit pages; the rest of that second is skipped',
          );
          until = toSecond(Date.parse(until) - 1000);
        } else until = narrowed;
        offset = 0;
        oldest = Number.POSITIVE_INFINITY;
        if (Date.parse(until) < Date.parse(since)) {
          done = true;
          break;
        }
      }
      const { items, hasNext } = await fetchPage(since, until, offset);
      const { times, open } = await ingest(await withDetails(items), tally, t0);
      for (const t of times) oldest = Math.min(oldest, t);
      for (const t of open) earliestOpen = Math.min(earliestOpen, t);
      if (!hasNext || items.length === 0) {
        done = true;
        break;
      }
      offset += items.length;
    }
    if (stopped) return;
    if (done) {
      resume = undefined;
      checkpoint = toSecond(Math.min(top - CHECKPOINT_OVERLAP_MS, earliestOpen));
    } else {
      // Out of pages for this poll: the older part of the window is read next time.
      resume = { until: toSecond(oldest, true), top: Math.min(top, earliestOpen) };
      deps.metrics.inc('hoop_poll_window_resumed');
    }
  }

  /** Sessions awaiting review not listed in this poll: read by id until decided or too old. */
  async function revisitPending(tally: Tally, t0: number): Promise<void> {
    while (pending.size > MAX_PENDING) {
      const oldestId = pending.keys().next().value as string;
      pending.delete(oldestId);
      deps.metrics.inc('hoop_poll_pending_dropped');
    }
    const ids: string[] = [];
    for (const [id, first] of pending) {
      if (tally.read.has(id)) continue;
      if (t0 - first > pendingMaxAgeMs) {
        pending.delete(id);
        deps.metrics.inc('hoop_poll_pending_expired');
        continue;
      }
      ids.push(id);
      if (ids.length >= PENDING_PER_POLL) break;
    }
    if (ids.length === 0) return;
    const details = await withDetails(ids.map((id) => ({ id })));
    const found = details.filter((d, i) => {
      const missing = (d as { id?: unknown; start_date?: unknown }).start_date === undefined;
      if (missing) pending.delete(ids[i]!);
      return !missing;
    });
    await ingest(found, tally, t0);
  }

  async function pollOnce(): Promise<PollResult> {
    const t0 = now();
    const tally: Tally = { sessions: 0, accepted: 0, rejected: 0, read: new Set() };
    await pollWindow(tally, t0);
    if (!stopped) await revisitPending(tally, t0);
    deps.metrics.inc('ingest_accepted_hoop_api', tally.accepted);
    deps.metrics.inc('ingest_rejected_hoop_api', tally.rejected);
    return { sessions: tally.sessions, accepted: tally.accepted, rejected: tally.rejected };
  }

  function schedule(delayMs: number) {
    if (stopped) return;
    timer = setTimeout(() => {
      running = pollOnce()
        .catch((err) => {
          deps.metrics.inc('hoop_poll_errors');
          if (!stopped)
            deps.logger.warn({ err: errorMessage(err) }, 'hoop sessions poll failed; retrying next interval');
        })
        .finally(() => {
          running = undefined;
          schedule(opts.intervalMs);
        });
    }, delayMs);
    timer.unref();
  }

  return {
    start() {
      if (timer || running || stopped) return;
      schedule(0);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      abort.abort();
      await running;
    },
    pollOnce,
    checkpoint: () => checkpoint,
  };
}
