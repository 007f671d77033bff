// `vigil replay` tells the user about events past the retention before it replays anything, and
// replays only what the user chose (src/cli/replay.ts).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  chooseExpired,
  createSubmitWindow,
  describeExpired,
  readChunks,
  scanRetention,
} from '../../../src/cli/replay.js';
import type { AccessEvent } from '../../../src/model/index.js';

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

describe('the replay submit window', () => {
  const batch = (label: string, n: number) =>
    Array.from({ length: n }, (_, i) => ({ event_id: `${label}-${i}` }) as unknown as AccessEvent);

  /** An ingest whose submits resolve or fail only when the test says so. */
  function manualIngest() {
    const calls: Array<{ first: string; size: number; settle: (err?: Error) => void }> = [];
    return {
      calls,
      ingest: {
        submit(events: AccessEvent[]) {
          return new Promise<void>((resolve, reject) => {
            calls.push({
              first: events[0]!.event_id,
              size: events.length,
              settle: (err) => (err ? reject(err) : resolve()),
            });
          });
        },
      },
    };
  }
  const tick = () => new Promise((r) => setImmediate(r));

  it('hands chunks over in order, at most `chunks` before the oldest is durable', async () => {
    const m = manualIngest();
    const w = createSubmitWindow(m.ingest, { chunks: 3, events: 1_000 });
    const submitted: string[] = [];
    const feeding = (async () => {
      for (const label of ['a', 'b', 'c', 'd', 'e']) {
        await w.submit(batch(label, 10));
        submitted.push(label);
      }
    })();
    await tick();
    expect(m.calls.map((c) => c.first)).toEqual(['a-0', 'b-0', 'c-0']);
    expect(submitted).toEqual(['a', 'b', 'c']); // the fourth waits for room before it returns
    m.calls[1]!.settle(); // b durable before a: still no room, a is the oldest
    await tick();
    expect(m.calls).toHaveLength(3);
    m.calls[0]!.settle();
    await tick();
    expect(m.calls.map((c) => c.first)).toEqual(['a-0', 'b-0', 'c-0', 'd-0', 'e-0']);
    for (const c of m.calls.slice(2)) c.settle();
    await feeding;
    await w.drained();
  });

  it('keeps the events in flight within its bound (a chunk larger than the room waits)', async () => {
    const m = manualIngest();
    const w = createSubmitWindow(m.ingest, { chunks: 10, events: 25 });
    void w.submit(batch('a', 10));
    void w.submit(batch('b', 10));
    const third = w.submit(batch('c', 10));
    await tick();
    expect(m.calls.map((c) => c.size)).toEqual([10, 10]);
    m.calls[0]!.settle();
    await third;
    expect(m.calls.map((c) => c.first)).toEqual(['a-0', 'b-0', 'c-0']);
    for (const c of m.calls.slice(1)) c.settle();
    await w.drained();
  });

  it('throws the first failure and hands nothing more over; drained throws it too', async () => {
    const m = manualIngest();
    const w = createSubmitWindow(m.ingest, { chunks: 2, events: 1_000 });
    await w.submit(batch('a', 5));
    await w.submit(batch('b', 5));
    const third = w.submit(batch('c', 5));
    m.calls[0]!.settle(new Error('not durable'));
    await expect(third).rejects.toThrow('not durable');
    expect(m.calls).toHaveLength(2);
    m.calls[1]!.settle(new Error('also failed'));
    await expect(w.drained()).rejects.toThrow('also failed');
  });
});
