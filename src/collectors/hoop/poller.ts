// Polls hoop.dev's sessions API (`GET /api/sessions`) for what its webhooks do not carry: review
// decisions, guardrail blocks, data masking, AI risk analysis, machine identities. One event per
// session with its own id ('hoop-api', session id), so polling a session again (it may still be
// running) replaces its row instead of adding one, and it never collides with webhook events.
//
// At-least-once: the checkpoint (the latest start_date seen) advances only after a poll's events
// are durable; a failed poll is retried from the same checkpoint at the next interval. Sessions
// not yet done hold the checkpoint back (for at most `revisitMs`) so their outcome is picked up.
// Bounded: one poll reads at most `maxPages` pages of `pageSize`, each request has a timeout, and
// stop() aborts a request in flight and waits for the poll to end.
import type { AccessEvent } from '../../model/index.js';
import { errorMessage } from '../../model/index.js';
import type { CollectorDeps } from '../deps.js';
import { normalizeHoopApiSession } from './hoop.normalizer.js';
import { hoopSessionListSchema } from './hoop.schema.js';

export interface HoopPollerDeps
  extends Pick<CollectorDeps, 'ingest' | 'tokenizer' | 'metrics' | 'logger' | 'now'> {
  /** @defaultValue the global fetch */
  readonly fetch?: typeof fetch;
}

export interface HoopPollerOptions {
  /** Base URL of the hoop.dev gateway (`https://use.hoop.dev` or its `/api` URL). */
  readonly apiUrl: string;
  /** API key or access token, sent as `Authorization: Bearer`. */
  readonly apiToken: string;
  readonly intervalMs: number;
  readonly tenant: string;
  readonly deps: HoopPollerDeps;
  /** How far back the first poll looks. @defaultValue 3600000 (1 h) */
  readonly initialLookbackMs?: number;
  /** How long a session not yet done keeps the checkpoint from moving past it. @defaultValue 3600000 */
  readonly revisitMs?: number;
  /** @defaultValue 10000 */
  readonly requestTimeoutMs?: number;
  /** The API's page size limit is 100. @defaultValue 100 */
  readonly pageSize?: number;
  /** @defaultValue 50 */
  readonly maxPages?: number;
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
  /** One poll (all pages since the checkpoint). */
  pollOnce(): Promise<PollResult>;
  /** The start_date the next poll asks from. */
  readonly checkpoint: () => string | undefined;
}

/** Largest response body read from the API (a page of 100 sessions with 10 KB scripts fits easily). */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

function sessionsUrl(apiUrl: string): string {
  const base = apiUrl.replace(/\/+$/, '');
  return base.endsWith('/api') ? `${base}/sessions` : `${base}/api/sessions`;
}

export function createHoopPoller(opts: HoopPollerOptions): HoopPoller {
  const { deps } = opts;
  const doFetch = deps.fetch ?? fetch;
  const pageSize = Math.min(opts.pageSize ?? 100, 100);
  const maxPages = opts.maxPages ?? 50;
  const timeoutMs = opts.requestTimeoutMs ?? 10_000;
  const revisitMs = opts.revisitMs ?? 3_600_000;
  const url = sessionsUrl(opts.apiUrl);
  const now = () => deps.now?.() ?? Date.now();

  let checkpoint: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = false;
  const abort = new AbortController();

  async function fetchPage(since: string, offset: number): Promise<{ items: unknown[]; hasNext: boolean }> {
    const u = new URL(url);
    u.searchParams.set('start_date', since);
    u.searchParams.set('limit', String(pageSize));
    u.searchParams.set('offset', String(offset));
    const res = await doFetch(u, {
      headers: { authorization: `Bearer ${opts.apiToken}`, accept: 'application/json' },
      signal: AbortSignal.any([abort.signal, AbortSignal.timeout(timeoutMs)]),
    });
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`hoop sessions API answered ${res.status}`);
    }
    const text = await res.text();
    if (text.length > MAX_RESPONSE_BYTES) throw new Error('hoop sessions API page exceeds 16 MiB');
    const doc: unknown = JSON.parse(text);
    // Older gateways answer a bare array; current ones {data, total, has_next_page}.
    if (Array.isArray(doc)) return { items: doc, hasNext: doc.length >= pageSize };
    const env = hoopSessionListSchema.safeParse(doc);
    if (!env.success) throw new Error('hoop sessions API answered an unknown shape');
    const items = env.data.data ?? [];
    return { items, hasNext: env.data.has_next_page ?? items.length >= pageSize };
  }

  async function pollOnce(): Promise<PollResult> {
    const t0 = now();
    const since = checkpoint ?? new Date(t0 - (opts.initialLookbackMs ?? 3_600_000)).toISOString();
    let latest = Date.parse(since);
    let earliestOpen = Number.POSITIVE_INFINITY;
    let sessions = 0;
    let accepted = 0;
    let rejected = 0;
    let offset = 0;
    for (let page = 0; page < maxPages && !stopped; page++) {
      const { items, hasNext } = await fetchPage(since, offset);
      const events: AccessEvent[] = [];
      for (const item of items) {
        const r = normalizeHoopApiSession(item, {
          tokenizer: deps.tokenizer,
          tenant: opts.tenant,
          now: now(),
        });
        if (!r.ok) {
          rejected++;
          deps.logger.warn({ reason: r.reason }, 'hoop session skipped');
          continue;
        }
        events.push(r.value);
        latest = Math.max(latest, r.value.time);
        const status = (item as { status?: unknown }).status;
        if (status !== 'done' && r.value.time >= t0 - revisitMs)
          earliestOpen = Math.min(earliestOpen, r.value.time);
      }
      sessions += items.length;
      // Durable before the checkpoint may move past these sessions.
      await deps.ingest.submit(events);
      accepted += events.length;
      if (!hasNext || items.length === 0) break;
      offset += items.length;
    }
    deps.metrics.inc('ingest_accepted_hoop_api', accepted);
    deps.metrics.inc('ingest_rejected_hoop_api', rejected);
    if (!stopped) checkpoint = new Date(Math.min(latest, earliestOpen)).toISOString();
    return { sessions, accepted, rejected };
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
