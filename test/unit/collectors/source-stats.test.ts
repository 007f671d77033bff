// Per-source figures: bounded, key names by allow-list, never values (the receivers' use of them
// with real SDK spans is test/integration/otlp-source-stats.test.ts).
import { describe, expect, it } from 'vitest';
import {
  createSourceStats,
  MAX_KEY_LENGTH,
  MAX_KEYS,
  NONCONFORMING_KEY,
  OTHER_KEYS,
  ReadRecorder,
  reportedKeyName,
  reportedReason,
  summarizeSources,
} from '../../../src/collectors/source-stats.js';

describe('source figures', () => {
  it('reports key names shaped like attribute names, index segments as #, anything else as one label', () => {
    expect(reportedKeyName('db.milvus.search.limit')).toBe('db.milvus.search.limit');
    expect(reportedKeyName('gen_ai.prompt.12.content')).toBe('gen_ai.prompt.#.content');
    expect(reportedKeyName('user:alice@example.com')).toBe(NONCONFORMING_KEY);
    expect(reportedKeyName('a b')).toBe(NONCONFORMING_KEY);
    expect(reportedKeyName('\u001b[2J')).toBe(NONCONFORMING_KEY);
    expect(reportedKeyName('')).toBe(NONCONFORMING_KEY);
    const long = reportedKeyName(`x.${'y'.repeat(300)}`);
    expect([long.length, long.endsWith('…')]).toEqual([MAX_KEY_LENGTH, true]);
  });

  it('counts a JSON path reason once whatever the index', () => {
    expect(reportedReason('resourceSpans[3].scopeSpans[0].spans[12].traceId: expected a hex string')).toBe(
      'resourceSpans[].scopeSpans[].spans[].traceId: expected a hex string',
    );
  });

  it('keeps at most MAX_KEYS keys per source and interval, the rest under one label', () => {
    const stats = createSourceStats(10_000);
    for (let i = 0; i < MAX_KEYS + 50; i++) stats.examined('otlp', [`k${i}.x`]);
    const keys = stats.pending().filter((r) => r.figure === 'unused_key');
    expect(keys).toHaveLength(MAX_KEYS);
    expect(keys.find((r) => r.label === OTHER_KEYS)?.count).toBe(51);
  });

  it('examines a bounded number of items per interval; a drain resets; restore puts rows back', () => {
    const stats = createSourceStats(2);
    expect(stats.examineBudget('otlp')).toBe(2);
    stats.examined('otlp', ['a.b']);
    stats.examined('otlp', ['a.b']);
    expect(stats.examineBudget('otlp')).toBe(0);
    stats.record('otlp', { received: 5, mapped: 3, notDb: 1, rejected: new Map([['x: bad', 1]]) });
    const rows = stats.drain();
    expect(stats.examineBudget('otlp')).toBe(2);
    expect(stats.pending()).toEqual([]);
    stats.restore(rows);
    expect(summarizeSources(stats.pending())).toEqual([
      {
        source: 'otlp',
        received: 5,
        mapped: 3,
        not_db: 1,
        rejected: 1,
        rejected_by_reason: [{ reason: 'x: bad', count: 1 }],
        examined: 2,
        unused_keys: [{ key: 'a.b', items: 2 }],
      },
    ]);
  });

  it('ReadRecorder: what was read with get or has is used; listing keys is not reading them', () => {
    const r = new ReadRecorder(
      new Map<string, string>([
        ['a', '1'],
        ['b', '2'],
        ['c', '3'],
      ]),
    );
    r.get('a');
    r.has('b');
    expect([...r.keys()]).toEqual(['a', 'b', 'c']);
    expect(r.unread()).toEqual(['c']);
  });
});
