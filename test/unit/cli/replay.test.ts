// `vigil replay` tells the user about events past the retention before it replays anything, and
// replays only what the user chose (src/cli/replay.ts).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseExpired, describeExpired, readChunks, scanRetention } from '../../../src/cli/replay.js';

const DAY = 86_400_000;
/** The clock these tests own. */
const NOW = 1_900_000_000_000;

function file(lines: string[]): string {
  const f = path.join(mkdtempSync(path.join(tmpdir(), 'vigil-replay-')), 'events.ndjson');
  writeFileSync(f, `${lines.join('\n')}\n`);
  return f;
}

const at = (ageDays: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ time: new Date(NOW - ageDays * DAY).toISOString(), tenant: 't', ...extra });

describe('scanRetention', () => {
  it('counts the events past the retention and finds the oldest, by event time', async () => {
    const scan = await scanRetention(
      file([
        at(1),
        at(40),
        at(29.9),
        at(31),
        '',
        'not json',
        '[1,2]',
        at(90),
        JSON.stringify({ time: NOW - 35 * DAY }),
      ]),
      30,
      NOW,
    );
    expect(scan).toMatchObject({ events: 6, expired: 4, retentionDays: 30, cutoff: NOW - 30 * DAY });
    expect(scan.oldest).toBe(NOW - 90 * DAY);
  });

  it('finds nothing to say about a file within the retention', async () => {
    const scan = await scanRetention(file([at(0), at(2)]), 180, NOW);
    expect(scan.expired).toBe(0);
    expect(scan.oldest).toBeUndefined();
  });

  it('tells how many, how old and the retention', async () => {
    const scan = await scanRetention(file([at(1), at(45), at(400)]), 30, NOW);
    const text = describeExpired(scan, NOW);
    expect(text).toContain(
      '2 of 3 events are older than the events retention of 30 days (VIGIL_EVENTS_TTL_DAYS)',
    );
    expect(text).toContain(
      `the oldest is from ${new Date(NOW - 400 * DAY).toISOString().slice(0, 10)} (400 days old)`,
    );
    expect(text).toMatch(/--expired: abort .* skip .* include/s);
  });
});

describe('chooseExpired', () => {
  it('takes the choice given on the command line', async () => {
    expect(await chooseExpired('include', false)).toBe('include');
    expect(await chooseExpired('skip', true, async () => 'abort')).toBe('skip');
  });

  it('aborts without a choice when nobody can be asked', async () => {
    expect(await chooseExpired(undefined, false, async () => 'include')).toBe('abort');
  });

  it('asks on a terminal until the answer is one of the choices; an empty answer aborts', async () => {
    const answers = ['keep', 'yes', 'S'];
    const asked: string[] = [];
    const ask = async (q: string) => {
      asked.push(q);
      return answers.shift()!;
    };
    expect(await chooseExpired(undefined, true, ask)).toBe('skip');
    expect(asked).toHaveLength(3);
    expect(await chooseExpired(undefined, true, async () => '')).toBe('abort');
    expect(await chooseExpired(undefined, true, async () => 'include')).toBe('include');
  });
});

describe('readChunks', () => {
  it('sends a dropped line as an empty line, so line numbers still point into the file', async () => {
    const lines = Array.from({ length: 7 }, (_, i) => at(i * 10, { n: i }));
    const chunks = [];
    for await (const c of readChunks(file(lines), 3, (l) => l.includes('"n":2') || l.includes('"n":5')))
      chunks.push(c);
    expect(chunks.map((c) => c.firstLine)).toEqual([1, 4, 7]);
    const sent = chunks.flatMap((c) => c.text.split('\n'));
    expect(sent).toHaveLength(7);
    expect(sent[2]).toBe('');
    expect(sent[5]).toBe('');
    expect(sent[6]).toBe(lines[6]);
  });
});
