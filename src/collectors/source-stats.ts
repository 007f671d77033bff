// What each source sent and what became of it: items received, mapped to events, dropped as none
// of vigil's business (OTLP spans that are no database operation), rejected (by reason), and the
// attribute keys of mapped items that the mapping never read: what a user wiring a new source
// needs to see what vigil leaves on the floor. Key names only, never values.
//
// Figures gather in memory and are drained to the store's `source_stats` table on an interval
// (src/store/source-stats.ts): the dashboard and `vigil sources` read them from there, so every
// collector process of a deployment adds up, and figures outlive a restart. Bounded: per source
// and interval at most MAX_REASONS reasons and MAX_KEYS keys (the rest under one `(other …)`
// label), at most MAX_SOURCES sources.
import type { AnyValue, Attributes } from './otlp/otlp.decoder.js';

export type SourceFigure = 'received' | 'mapped' | 'not_db' | 'rejected' | 'examined' | 'unused_key';

export interface SourceStatsRow {
  readonly source: string;
  readonly figure: SourceFigure;
  /** The reason (rejected) or key name (unused_key); '' for the totals. */
  readonly label: string;
  readonly count: number;
}

export interface RequestFigures {
  readonly received: number;
  readonly mapped: number;
  readonly notDb?: number;
  /** Rejected items by reason. */
  readonly rejected: ReadonlyMap<string, number>;
}

export interface SourceStats {
  /** One request's figures, once its events are durable (a retried request is counted once). */
  record(source: string, figures: RequestFigures): void;
  /**
   * How many more items of the source to examine (look at which attribute keys the mapping read)
   * in this interval: every item until `examineQuota` were, then none until the next drain. The
   * cost is bounded, and a new source's first items are all seen.
   */
  examineBudget(source: string): number;
  /** An examined, mapped item's attribute keys that the mapping did not read. */
  examined(source: string, unusedKeys: Iterable<string>): void;
  /** The figures gathered since the last drain, which resets them. */
  drain(): SourceStatsRow[];
  /** The figures gathered since the last drain, left in place. */
  pending(): SourceStatsRow[];
  /** Puts drained rows back (the store refused them: they go with the next drain). */
  restore(rows: readonly SourceStatsRow[]): void;
}

export const MAX_SOURCES = 16;
export const MAX_REASONS = 64;
export const MAX_KEYS = 256;
/** Longest key name reported; longer keys are cut and marked with `…`. */
export const MAX_KEY_LENGTH = 100;
export const OTHER_KEYS = '(other keys)';
export const OTHER_REASONS = '(other reasons)';
/** Keys not shaped like attribute names (dotted words): reported under this label, never as sent. */
export const NONCONFORMING_KEY = '(nonconforming key)';

/** An attribute key as OpenTelemetry names them: dot-separated words of letters, digits, _ and -. */
const KEY_SHAPE = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;

/**
 * The name under which an attribute key is reported. Allow-list: a key shaped like an attribute
 * name is kept (segments that are all digits, like an array index or an id, become `#`, so they
 * neither spread the counts nor carry a number someone put in a key); anything else is one label.
 */
export function reportedKeyName(key: string): string {
  if (key.length > 4 * MAX_KEY_LENGTH || !KEY_SHAPE.test(key)) return NONCONFORMING_KEY;
  const name = key
    .split('.')
    .map((s) => (/^\d+$/.test(s) ? '#' : s))
    .join('.');
  return name.length > MAX_KEY_LENGTH ? `${name.slice(0, MAX_KEY_LENGTH - 1)}…` : name;
}

/** A reason as counted: JSON paths lose their indices (`spans[12]` → `spans[]`), cut at 200. */
export function reportedReason(reason: string): string {
  return reason.replace(/\[\d+\]/g, '[]').slice(0, 200);
}

interface Figures {
  received: number;
  mapped: number;
  notDb: number;
  examined: number;
  rejected: Map<string, number>;
  keys: Map<string, number>;
}

const blank = (): Figures => ({
  received: 0,
  mapped: 0,
  notDb: 0,
  examined: 0,
  rejected: new Map(),
  keys: new Map(),
});

function add(map: Map<string, number>, label: string, n: number, max: number, other: string): void {
  const key = map.has(label) || map.size < max - 1 ? label : other;
  map.set(key, (map.get(key) ?? 0) + n);
}

/** @param examineQuota items examined per source and interval @defaultValue 1000 */
export function createSourceStats(examineQuota = 1000): SourceStats {
  let bySource = new Map<string, Figures>();
  const figuresOf = (source: string): Figures => {
    let f = bySource.get(source);
    if (!f) {
      f = blank();
      // Sources are vigil's own names; the bound only guards against a caller's mistake.
      if (bySource.size < MAX_SOURCES) bySource.set(source, f);
    }
    return f;
  };
  const rowsOf = (map: Map<string, Figures>): SourceStatsRow[] => {
    const rows: SourceStatsRow[] = [];
    for (const [source, f] of map) {
      const total = (figure: SourceFigure, count: number) => {
        if (count > 0) rows.push({ source, figure, label: '', count });
      };
      total('received', f.received);
      total('mapped', f.mapped);
      total('not_db', f.notDb);
      total('examined', f.examined);
      for (const [label, count] of f.rejected) rows.push({ source, figure: 'rejected', label, count });
      for (const [label, count] of f.keys) rows.push({ source, figure: 'unused_key', label, count });
    }
    return rows;
  };
  return {
    record(source, figures) {
      const f = figuresOf(source);
      f.received += figures.received;
      f.mapped += figures.mapped;
      f.notDb += figures.notDb ?? 0;
      for (const [reason, n] of figures.rejected)
        add(f.rejected, reportedReason(reason), n, MAX_REASONS, OTHER_REASONS);
    },
    examineBudget(source) {
      return Math.max(0, examineQuota - (bySource.get(source)?.examined ?? 0));
    },
    examined(source, unusedKeys) {
      const f = figuresOf(source);
      f.examined++;
      for (const key of unusedKeys) add(f.keys, reportedKeyName(key), 1, MAX_KEYS, OTHER_KEYS);
    },
    drain() {
      const rows = rowsOf(bySource);
      bySource = new Map();
      return rows;
    },
    pending: () => rowsOf(bySource),
    restore(rows) {
      for (const r of rows) {
        const f = figuresOf(r.source);
        if (r.figure === 'received') f.received += r.count;
        else if (r.figure === 'mapped') f.mapped += r.count;
        else if (r.figure === 'not_db') f.notDb += r.count;
        else if (r.figure === 'examined') f.examined += r.count;
        else if (r.figure === 'rejected') add(f.rejected, r.label, r.count, MAX_REASONS, OTHER_REASONS);
        else add(f.keys, r.label, r.count, MAX_KEYS, OTHER_KEYS);
      }
    },
  };
}

/**
 * Attributes that remember which keys were read (`get` / `has`), for one examined item: what the
 * mapping did not read it did not use. Listing keys (`keys()`, iteration) is not reading them.
 */
export class ReadRecorder implements ReadonlyMap<string, AnyValue> {
  readonly #inner: Attributes;
  readonly #read = new Set<string>();
  constructor(inner: Attributes) {
    this.#inner = inner;
  }
  get size(): number {
    return this.#inner.size;
  }
  get(key: string): AnyValue {
    this.#read.add(key);
    return this.#inner.get(key);
  }
  has(key: string): boolean {
    this.#read.add(key);
    return this.#inner.has(key);
  }
  keys(): MapIterator<string> {
    return this.#inner.keys();
  }
  values(): MapIterator<AnyValue> {
    return this.#inner.values();
  }
  entries(): MapIterator<[string, AnyValue]> {
    return this.#inner.entries();
  }
  forEach(fn: (value: AnyValue, key: string, map: ReadonlyMap<string, AnyValue>) => void): void {
    for (const [k, v] of this.#inner) fn(v, k, this);
  }
  [Symbol.iterator](): MapIterator<[string, AnyValue]> {
    return this.#inner.entries();
  }
  /** The keys present that were never read. */
  unread(): string[] {
    return [...this.#inner.keys()].filter((k) => !this.#read.has(k));
  }
}

/** One source as `vigil sources` and GET /v1/sources show it. */
export interface SourceReport {
  readonly source: string;
  readonly received: number;
  readonly mapped: number;
  /** Dropped, not rejected: items that are none of vigil's business (OTLP non-database spans). */
  readonly not_db: number;
  readonly rejected: number;
  readonly rejected_by_reason: ReadonlyArray<{ readonly reason: string; readonly count: number }>;
  /** Mapped items whose attribute keys were looked at (`unused_keys` counts are out of these). */
  readonly examined: number;
  /** The most frequent keys of examined items that vigil did not read, most frequent first. */
  readonly unused_keys: ReadonlyArray<{ readonly key: string; readonly items: number }>;
}

export const DEFAULT_TOP_KEYS = 20;
export const MAX_TOP_KEYS = 100;

/** Rows (stored, and not yet stored) → one report per source, the top `topKeys` unused keys. */
export function summarizeSources(
  rows: ReadonlyArray<{ source: string; figure: string; label: string; count: number }>,
  topKeys = DEFAULT_TOP_KEYS,
): SourceReport[] {
  const by = new Map<
    string,
    { totals: Map<string, number>; reasons: Map<string, number>; keys: Map<string, number> }
  >();
  for (const r of rows) {
    let s = by.get(r.source);
    if (!s) {
      s = { totals: new Map(), reasons: new Map(), keys: new Map() };
      by.set(r.source, s);
    }
    const map = r.figure === 'rejected' ? s.reasons : r.figure === 'unused_key' ? s.keys : s.totals;
    const label = map === s.totals ? r.figure : r.label;
    map.set(label, (map.get(label) ?? 0) + r.count);
  }
  const ranked = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return [...by]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([source, s]) => {
      const rejectedByReason = ranked(s.reasons).map(([reason, count]) => ({ reason, count }));
      return {
        source,
        received: s.totals.get('received') ?? 0,
        mapped: s.totals.get('mapped') ?? 0,
        not_db: s.totals.get('not_db') ?? 0,
        rejected: rejectedByReason.reduce((n, r) => n + r.count, 0),
        rejected_by_reason: rejectedByReason,
        examined: s.totals.get('examined') ?? 0,
        unused_keys: ranked(s.keys)
          .slice(0, Math.max(1, Math.min(MAX_TOP_KEYS, topKeys)))
          .map(([key, items]) => ({ key, items })),
      };
    });
}

/**
 * Drains `stats` to the store every `intervalMs` (and once more on stop). A write that fails puts
 * its rows back for the next one: figures are late, not lost (while the process lives).
 */
export function startSourceStatsFlush(opts: {
  readonly stats: SourceStats;
  readonly write: (rows: SourceStatsRow[]) => Promise<void>;
  readonly intervalMs: number;
  readonly onError: (err: unknown) => void;
}): { flush(): Promise<void>; stop(): Promise<void>; unwritten(): SourceStatsRow[] } {
  let running: Promise<void> = Promise.resolve();
  /** Drained, being written: still counted by `unwritten` so a reader never sees a dip. */
  let writing: SourceStatsRow[] = [];
  const flush = () => {
    running = running.then(async () => {
      writing = opts.stats.drain();
      try {
        await opts.write(writing);
      } catch (err) {
        opts.stats.restore(writing);
        opts.onError(err);
      } finally {
        writing = [];
      }
    });
    return running;
  };
  const timer = setInterval(() => void flush(), opts.intervalMs);
  timer.unref();
  return {
    flush,
    unwritten: () => [...writing, ...opts.stats.pending()],
    async stop() {
      clearInterval(timer);
      await flush();
    },
  };
}
