// `vigil replay`: feeds a file of generic events (NDJSON) through a running vigil's admin API, or
// through a pipeline of its own when none runs. Event time drives the detectors, so a replay can
// carry events older than the events table's retention: the store would take them and drop them
// at its next TTL merge, silently. The file is therefore scanned first, and when any event is past
// retention the user chooses what happens to them (`--expired`, or a question on a terminal).
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createInterface as createPrompt } from 'node:readline/promises';
import type { Ingest } from '../collectors/ingest.js';
import { parseEventTime } from '../collectors/normalize.js';
import type { AccessEvent } from '../model/index.js';

export const EXPIRED_CHOICES = ['abort', 'skip', 'include'] as const;
export type ExpiredChoice = (typeof EXPIRED_CHOICES)[number];

const DAY_MS = 86_400_000;

export interface RetentionScan {
  /** Lines holding a JSON object with a readable `time`. */
  readonly events: number;
  /** Those whose event time is older than the retention. */
  readonly expired: number;
  /** The oldest expired event time (ms), when any. */
  readonly oldest?: number;
  readonly retentionDays: number;
  /** Event times before this (ms) are past retention. */
  readonly cutoff: number;
}

/**
 * The event time (ms) of one NDJSON line. Lines that are not a JSON object with a readable time
 * give undefined: the replay itself rejects them with their reason.
 */
export function lineEventTime(line: string, now: number): number | undefined {
  const trimmed = line.trim();
  if (trimmed === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const time = (value as { time?: unknown }).time;
  if (typeof time !== 'string' && typeof time !== 'number') return undefined;
  return parseEventTime(time, now);
}

/** Whether a line is an event from before `cutoff` (ms). */
export const isExpiredLine = (line: string, cutoff: number, now: number): boolean => {
  const t = lineEventTime(line, now);
  return t !== undefined && t < cutoff;
};

/** Counts the file's events and those past `retentionDays` before `now`. */
export async function scanRetention(
  file: string,
  retentionDays: number,
  now: number,
): Promise<RetentionScan> {
  const cutoff = now - retentionDays * DAY_MS;
  let events = 0;
  let expired = 0;
  let oldest: number | undefined;
  const rl = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of rl) {
    const t = lineEventTime(line, now);
    if (t === undefined) continue;
    events++;
    if (t >= cutoff) continue;
    expired++;
    if (oldest === undefined || t < oldest) oldest = t;
  }
  return { events, expired, oldest, retentionDays, cutoff };
}

/** What the user is told before anything is replayed, when events are past retention. */
export function describeExpired(scan: RetentionScan, now: number): string {
  const oldest = scan.oldest ?? scan.cutoff;
  const age = Math.floor((now - oldest) / DAY_MS);
  return [
    `replay: ${scan.expired} of ${scan.events} events are older than the events retention of ` +
      `${scan.retentionDays} days (VIGIL_EVENTS_TTL_DAYS); the oldest is from ` +
      `${new Date(oldest).toISOString().slice(0, 10)} (${age} days old).`,
    'The store would take them and drop them at its next retention merge; the detectors would still see them.',
    'Choose with --expired: abort (replay nothing), skip (replay only the events within retention),',
    'or include (replay all of them; those past retention are gone from the store afterwards).',
  ].join('\n');
}

/**
 * The choice for a file with expired events: the one given, else a question on a terminal,
 * else abort — nothing is replayed on a guess.
 */
export async function chooseExpired(
  given: ExpiredChoice | undefined,
  interactive: boolean,
  ask: (question: string) => Promise<string> = askOnTerminal,
): Promise<ExpiredChoice> {
  if (given) return given;
  if (!interactive) return 'abort';
  for (;;) {
    const answer = (await ask('abort, skip or include? [abort] ')).trim().toLowerCase();
    if (answer === '') return 'abort';
    const choice = EXPIRED_CHOICES.find((c) => c === answer || c[0] === answer);
    if (choice) return choice;
  }
}

async function askOnTerminal(question: string): Promise<string> {
  const rl = createPrompt({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

/**
 * The file in chunks of `lines` lines. With `drop`, a line it marks is sent as an empty line, so
 * line numbers in rejection reasons still point into the file.
 */
export async function* readChunks(
  file: string,
  lines: number,
  drop?: (line: string) => boolean,
): AsyncGenerator<{ text: string; firstLine: number }> {
  const rl = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
  let buf: string[] = [];
  let first = 1;
  let n = 0;
  for await (const line of rl) {
    n++;
    buf.push(drop?.(line) ? '' : line);
    if (buf.length >= lines) {
      yield { text: buf.join('\n'), firstLine: first };
      buf = [];
      first = n + 1;
    }
  }
  if (buf.length) yield { text: buf.join('\n'), firstLine: first };
}

/** Replay chunks handed to the pipeline at most before the oldest of them is durable. */
export const REPLAY_CHUNKS_IN_FLIGHT = 4;

export interface SubmitWindow {
  /** Hands the events over in call order once there is room; throws the first failure seen. */
  submit(events: AccessEvent[]): Promise<void>;
  /** Resolves once everything handed over is durable; throws the first failure. */
  drained(): Promise<void>;
}

/**
 * Several submits in flight, in order: a replay's next chunk is parsed and handed over while the
 * ones before it are being stored, up to `chunks` submits and `events` events (below the
 * pipeline's in-flight bound, which refuses at once beyond it). The oldest is awaited first.
 */
export function createSubmitWindow(
  ingest: Pick<Ingest, 'submit'>,
  limits: { chunks: number; events: number },
): SubmitWindow {
  const pending: Array<{ done: Promise<void>; size: number }> = [];
  let events = 0;
  const settleOldest = async () => {
    const oldest = pending.shift()!;
    events -= oldest.size;
    await oldest.done;
  };
  return {
    async submit(batch) {
      while (pending.length > 0 && (pending.length >= limits.chunks || events + batch.length > limits.events))
        await settleOldest();
      const done = ingest.submit(batch);
      done.catch(() => {}); // seen when it is the oldest (settleOldest), never unhandled
      pending.push({ done, size: batch.length });
      events += batch.length;
    },
    async drained() {
      while (pending.length > 0) await settleOldest();
    },
  };
}
