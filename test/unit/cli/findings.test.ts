// `vigil findings` and GET /v1/findings: the filter grammar both accept, the cursor that pages past
// one response, the refused limit (never clamped), the address file that binds the CLI to its own
// vigil, and colours only where a person reads them.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { colourSeverity, formatFindingDetail, useColour } from '../../../src/cli/format.js';
import { parseDetector, parseEntity } from '../../../src/cli/options.js';
import { readServeAddress, recordServeAddress, SERVE_ADDRESS_FILE } from '../../../src/cli/serve-address.js';
import {
  decodeCursor,
  encodeCursor,
  findingFilterFromQuery,
  findingFilterToQuery,
  MAX_PAGE,
  nextCursor,
  pageLimit,
} from '../../../src/store/finding-query.js';
import { makeFinding } from '../../helpers/factories.js';
import { tempDataDir } from '../../helpers/services.js';
import { testTime } from '../../helpers/clock.js';

describe('the findings cursor', () => {
  it('round-trips any (event time, finding id) pair', () => {
    fc.assert(
      fc.property(fc.nat(), fc.string({ minLength: 1, maxLength: 256 }), (eventTime, findingId) => {
        expect(decodeCursor(encodeCursor({ eventTime, findingId }))).toEqual({ eventTime, findingId });
      }),
    );
  });

  it('refuses what this module did not write', () => {
    for (const text of ['', 'not base64!', Buffer.from('[1]').toString('base64url'), 'x'.repeat(600)])
      expect(decodeCursor(text)).toBeUndefined();
    expect(decodeCursor(Buffer.from('[-1,"a"]').toString('base64url'))).toBeUndefined();
    expect(decodeCursor(Buffer.from('{"t":1}').toString('base64url'))).toBeUndefined();
  });

  it('is given after a full page only, from its last row', () => {
    const page = [
      { event_time: 30, finding_id: 'c' },
      { event_time: 20, finding_id: 'b' },
    ];
    expect(nextCursor(page, 3)).toBeUndefined();
    expect(decodeCursor(nextCursor(page, 2)!)).toEqual({ eventTime: 20, findingId: 'b' });
    expect(nextCursor([], 1)).toBeUndefined();
  });
});

describe('limit on the admin API', () => {
  it('is refused past the page size, naming the field, never clamped', () => {
    expect(pageLimit(undefined, 1000)).toBe(1000);
    expect(pageLimit('1', 1000)).toBe(1);
    expect(pageLimit(String(MAX_PAGE), 1000)).toBe(MAX_PAGE);
    for (const bad of [String(MAX_PAGE + 1), '0', '-5', 'abc', '1e3', '2.5', ''])
      expect(pageLimit(bad, 1000)).toEqual({
        error: expect.stringMatching(/^limit: a whole number from 1 to 10000/),
      });
  });
});

describe('the findings filter of a query string', () => {
  const since = testTime(-2);
  const until = testTime(-1);

  it('reads back what the CLI writes', () => {
    const filter = {
      since,
      until,
      detector: 'volume-spike',
      entity: 'usr_k1_ZE3BB6GPtTo2G-Kdz_zad4',
      severities: ['high', 'critical'] as const,
      minScore: 0.5,
      after: { eventTime: since + 5, findingId: 'f1' },
    };
    const q = Object.fromEntries(findingFilterToQuery({ ...filter, severities: [...filter.severities] }));
    expect(findingFilterFromQuery(q)).toEqual({ ...filter, severities: ['high', 'critical'] });
  });

  it('refuses each bad field by name, without its value', () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ since: 'yesterday' }, 'since:'],
      [{ until: `${new Date(until).getUTCFullYear()}-13-01T00:00:00Z` }, 'until:'], // no month 13
      [
        { since: new Date(until).toISOString(), until: new Date(since).toISOString() },
        'until: must be after since',
      ],
      [{ detector: 'Volume Spike' }, 'detector:'],
      [{ entity: 'two words' }, 'entity:'],
      [{ entity: 'a\u001b[2J' }, 'entity:'],
      [{ severity: 'high,severe' }, 'severity:'],
      [{ min_score: '1.5' }, 'min_score:'],
      [{ min_score: '-0.1' }, 'min_score:'],
      [{ cursor: 'secret@example.com' }, 'cursor:'],
    ];
    for (const [q, field] of cases) {
      const r = findingFilterFromQuery(q);
      expect(r).toEqual({ error: expect.stringContaining(field) });
      for (const v of Object.values(q)) expect((r as { error: string }).error).not.toContain(v);
    }
  });

  it('the CLI refuses the same detector and entity forms before asking', () => {
    expect(parseDetector('bulk-extraction')).toBe('bulk-extraction');
    expect(() => parseDetector('DROP TABLE')).toThrow(/a detector name/);
    expect(parseEntity('customer_pii')).toBe('customer_pii');
    expect(() => parseEntity('')).toThrow(/1 to 256 characters/);
  });
});

describe('colours', () => {
  it('only on a terminal, and never with NO_COLOR set or TERM=dumb', () => {
    expect(useColour({ isTTY: true }, {})).toBe(true);
    expect(useColour({ isTTY: false }, {})).toBe(false);
    expect(useColour({}, {})).toBe(false);
    expect(useColour({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(useColour({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
    expect(useColour({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
    expect(colourSeverity('high  ', 'high', true)).toBe('\u001b[31mhigh  \u001b[0m');
    expect(colourSeverity('high  ', 'high', false)).toBe('high  ');
  });

  it('`findings show` names its history and explanation, with no escape sequence when not coloured', () => {
    const f = makeFinding({ first_fired_time: testTime(-3), event_time: testTime(-2), update_count: 4 });
    const text = formatFindingDetail(f, false);
    expect(text).toContain(`first fired  `);
    expect(text).toMatch(
      new RegExp(`first fired\\s+${new Date(testTime(-3)).toISOString().replace('.000Z', 'Z')}`),
    );
    expect(text).toMatch(/updates\s+4/);
    expect(text).toContain('explanation');
    expect(text).not.toContain('\u001b');
  });
});

describe('the address a vigil records in its data directory', () => {
  it('is written 0600, read back while its process lives, and removed by its owner', () => {
    const dir = tempDataDir();
    const forget = recordServeAddress(dir, 'http://127.0.0.1:18089');
    const file = path.join(dir, SERVE_ADDRESS_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readServeAddress(dir)).toEqual({ url: 'http://127.0.0.1:18089', pid: process.pid });
    forget();
    expect(existsSync(file)).toBe(false);
    expect(readServeAddress(dir)).toBeUndefined();
  });

  it('is stale when its process is gone: ignored and removed', () => {
    const dir = tempDataDir();
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    recordServeAddress(dir, 'http://127.0.0.1:18090', gone);
    expect(readServeAddress(dir)).toBeUndefined();
    expect(existsSync(path.join(dir, SERVE_ADDRESS_FILE))).toBe(false);
  });

  it('is left alone by a process that does not own it, and refused when malformed', () => {
    const dir = tempDataDir();
    const forgetOld = recordServeAddress(dir, 'http://127.0.0.1:18091', process.pid);
    recordServeAddress(dir, 'http://127.0.0.1:18092', process.ppid);
    forgetOld();
    expect(readServeAddress(dir, () => true)?.url).toBe('http://127.0.0.1:18092');
    for (const bad of [
      '{',
      '{"url":"file:///etc/passwd","pid":1}',
      '{"url":"http://127.0.0.1:1/x","pid":1}',
    ]) {
      writeFileSync(path.join(dir, SERVE_ADDRESS_FILE), bad);
      expect(readServeAddress(dir, () => true)).toBeUndefined();
    }
    expect(readFileSync(path.join(dir, SERVE_ADDRESS_FILE), 'utf8')).toContain('/x');
  });
});
