// The suite must not expire with the calendar. A fixed date is harmless where the test owns the
// only clock that meets it (a pure function given `now`); it breaks the day a TTL, a retention or
// a lookback of a real store, broker or running vigil reaches it. scripts/test.sh runs the suite a
// second time with the test processes' clock a year ahead, but the embedded ClickHouse engine keeps
// the real clock, so that pass cannot see a fixed date stored in it: this test keeps fixed dates out
// of every test file that reaches a store, a broker or a vigil, and out of the shared helpers.
// Such tests place their events with test/helpers/clock.ts instead.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../../..');

/** A calendar date written out: Date.UTC(2026, …), new Date(2026, …), '2026-11-02…' and the like. */
const FIXED_DATE = /Date\.UTC\(\s*\d{4}\s*,|new Date\(\s*\d{4}\s*,|['"`]\d{4}-\d{2}-\d{2}(?:[T ]|['"`])/;

/** What makes a test meet a clock it does not own. */
const REACHES_A_CLOCK =
  /\b(openStore|startTestVigil|spawnVigil|startVigil|tempDataDir|createChdbConnection|VIGIL_BIN|KAFKA_BROKERS|REDIS_URL|PG_URL)\b/;

function files(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name.endsWith('.ts'))
    .map((d) => path.relative(ROOT, path.join(d.parentPath, d.name)));
}

function fixedDates(file: string): string[] {
  return readFileSync(path.join(ROOT, file), 'utf8')
    .split('\n')
    .flatMap((line, i) => (FIXED_DATE.test(line) && !/^\s*(\/\/|\*)/.test(line) ? [`${file}:${i + 1}`] : []));
}

describe('the test suite and the calendar', () => {
  it('recognises the ways a fixed date is written', () => {
    for (const line of [
      'const T = Date.UTC(2026, 10, 2);',
      "time: '2026-11-02T10:00:00Z',",
      "toDate('2026-01-01')",
      'new Date(2027, 0, 1)',
      "at('2026-11-20 10:00:00.000')",
    ])
      expect(FIXED_DATE.test(line), line).toBe(true);
    for (const line of ['testTime(0, 10)', "'2026'", 'Date.UTC(y, m, d)', 'const id = "2026-11";'])
      expect(FIXED_DATE.test(line), line).toBe(false);
  });

  it('has no fixed date in the shared helpers', () => {
    expect(files('test/helpers').flatMap(fixedDates)).toEqual([]);
  });

  it('has no fixed date in a test that reaches a store, a broker or a running vigil', () => {
    const self = path.relative(ROOT, import.meta.filename);
    const reaching = [...files('test'), ...files('detectors')].filter(
      (f) =>
        f.endsWith('.test.ts') &&
        f !== self &&
        REACHES_A_CLOCK.test(readFileSync(path.join(ROOT, f), 'utf8')),
    );
    expect(reaching.length).toBeGreaterThan(20);
    expect(reaching.flatMap(fixedDates)).toEqual([]);
  });
});
