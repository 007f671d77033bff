// How a replay shows it is working: a progress bar on a terminal (events through the detectors of
// those in the file, events/s, findings so far), a plain line every few seconds otherwise (a log
// or a CI job gets no bar's control characters), and one summary line at the end.
import { Presets, SingleBar } from 'cli-progress';

export interface ReplayCounts {
  /** Events that went through the detectors. */
  readonly detected: number;
  /** Distinct findings (their first issue). */
  readonly findings: number;
  /** Issues of findings, first ones and re-issues with grown numbers alike. */
  readonly updates: number;
}

export interface ReplayProgress {
  update(counts: ReplayCounts): void;
  stop(): void;
}

/** Events per second over `elapsedMs` (0 before any time passed). */
export function eventsPerSecond(events: number, elapsedMs: number): number {
  return elapsedMs > 0 ? (events * 1000) / elapsedMs : 0;
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');

/** `findings: 39 (120 updates)` */
export function describeFindings(c: Pick<ReplayCounts, 'findings' | 'updates'>): string {
  return `findings: ${c.findings} (${c.updates} update${c.updates === 1 ? '' : 's'})`;
}

/** One progress line for a log: `replay: 50,000 of 120,000 events (42%), 8,300 events/s, findings: …`. */
export function progressLine(c: ReplayCounts, total: number, elapsedMs: number): string {
  const share = total > 0 ? ` (${Math.min(100, Math.floor((c.detected * 100) / total))}%)` : '';
  return (
    `replay: ${int(c.detected)} of ${int(total)} events${share}, ` +
    `${int(eventsPerSecond(c.detected, elapsedMs))} events/s, ${describeFindings(c)}`
  );
}

/** The line a replay ends with. */
export function replaySummary(o: {
  accepted: number;
  rejected: number;
  elapsedMs: number;
  counts: ReplayCounts;
}): string {
  return (
    `replayed ${o.accepted} events (${o.rejected} rejected) in ${(o.elapsedMs / 1000).toFixed(1)} s, ` +
    `${int(eventsPerSecond(o.accepted, o.elapsedMs))} events/s; ${describeFindings(o.counts)}`
  );
}

export interface ProgressOptions {
  /** Events expected (the file's scan). */
  readonly total: number;
  /** Where progress goes (stderr: stdout keeps the summary for scripts). */
  readonly stream: NodeJS.WritableStream & { isTTY?: boolean };
  /** Seconds between lines when the stream is not a terminal. @defaultValue 5_000 */
  readonly lineEveryMs?: number;
  readonly now?: () => number;
}

export function createReplayProgress(o: ProgressOptions): ReplayProgress {
  const now = o.now ?? Date.now;
  const started = now();
  if (o.stream.isTTY) {
    const bar = new SingleBar(
      {
        stream: o.stream,
        format: 'replay {bar} {percentage}% | {value}/{total} events | {rate} events/s | {found}',
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 50,
      },
      Presets.shades_classic,
    );
    bar.start(Math.max(1, o.total), 0, { rate: '0', found: describeFindings({ findings: 0, updates: 0 }) });
    return {
      update(c) {
        bar.update(Math.min(c.detected, Math.max(1, o.total)), {
          rate: int(eventsPerSecond(c.detected, now() - started)),
          found: describeFindings(c),
        });
      },
      stop: () => bar.stop(),
    };
  }
  // Not a terminal: a line now and then; the summary line says how it ended.
  const every = o.lineEveryMs ?? 5_000;
  let last = started;
  return {
    update(c) {
      if (now() - last < every) return;
      last = now();
      o.stream.write(`${progressLine(c, o.total, last - started)}\n`);
    },
    stop() {},
  };
}
