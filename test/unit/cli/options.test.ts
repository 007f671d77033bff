// The value grammar of `vigil`'s options (src/cli/options.ts): every refused value is refused by
// commander before the command runs, on one line that names the option, says the accepted form and
// never repeats the value.
import { InvalidArgumentError, Option } from 'commander';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decimalIn,
  integerIn,
  listOf,
  momentTime,
  parseLimit,
  parseMoment,
  parseTenant,
  TIME_FORM,
  timeRange,
  VigilCommand,
  withoutValue,
} from '../../../src/cli/options.js';
import { testIso, testTime } from '../../helpers/clock.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** What the parser throws for `value`, or undefined when it accepts it. */
function refusal(parse: (v: string) => unknown, value: string): InvalidArgumentError | undefined {
  try {
    parse(value);
    return undefined;
  } catch (err) {
    return err as InvalidArgumentError;
  }
}

/** Text that is no plain run of decimal digits (with an optional fraction). */
const notDecimal = fc.string().filter((s) => !/^\d+(\.\d+)?$/.test(s));

describe('whole numbers (--limit, --days, --people, --services)', () => {
  it('accepts every whole number in range, written in digits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), (n) => {
        expect(parseLimit(String(n))).toBe(n);
      }),
    );
    expect(parseLimit('0042')).toBe(42);
    expect(integerIn(0, 50)('0')).toBe(0);
  });

  it.each([
    ['not a number', 'abc'],
    ['empty', ''],
    ['blank', '  '],
    ['negative', '-5'],
    ['signed', '+5'],
    ['a float', '1.5'],
    ['an exponent', '1e3'],
    ['hexadecimal', '0x10'],
    ['NaN', 'NaN'],
    ['Infinity', 'Infinity'],
    ['zero below the minimum', '0'],
    ['above the maximum', '10001'],
    ['huge', '9'.repeat(400)],
    ['padded', ' 5'],
  ])('refuses %s', (_, value) => {
    const err = refusal(parseLimit, value);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err?.code).toBe('commander.invalidArgument');
    expect(err?.message).toBe('a whole number from 1 to 10000');
  });

  it('refuses generated non-integers, negatives and out-of-range integers', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string().filter((s) => !/^\d+$/.test(s)),
          fc.double({ noInteger: true }).map(String),
          fc.integer({ max: 0 }).map(String),
          fc.integer({ min: 10_001 }).map(String),
          fc.bigInt({ min: 10n ** 16n }).map(String),
        ),
        (value) => {
          expect(refusal(parseLimit, value)).toBeInstanceOf(InvalidArgumentError);
        },
      ),
    );
  });
});

describe('decimals (--risk)', () => {
  const risk = decimalIn(0, 100);

  it('accepts whole and decimal numbers in range', () => {
    expect(risk('0')).toBe(0);
    expect(risk('12.5')).toBe(12.5);
    expect(risk('100')).toBe(100);
  });

  it('refuses generated non-numbers and numbers out of range', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          notDecimal,
          fc.double({ min: 100, minExcluded: true, noNaN: true, noDefaultInfinity: true }).map(String),
        ),
        (value) => {
          expect(refusal(risk, value)?.message).toBe('a number from 0 to 100');
        },
      ),
    );
    for (const value of ['-1', '.5', '5.', '1e2', 'NaN', '', 'Infinity'])
      expect(refusal(risk, value), value).toBeInstanceOf(InvalidArgumentError);
  });
});

describe('points in time (every --since and --until)', () => {
  const now = testTime(10, 12);

  it('reads a duration back from now, with any unit of the configuration grammar', () => {
    for (const [value, ago] of [
      ['24h', DAY],
      ['7d', 7 * DAY],
      ['30m', 30 * 60_000],
      ['90s', 90_000],
      ['500ms', 500],
      ['1.5h', 1.5 * HOUR],
      ['0h', 0],
    ] as const)
      expect(momentTime(parseMoment(value), now), value).toBe(now - ago);
    expect(momentTime(parseMoment('now'), now)).toBe(now);
  });

  it('reads ISO-8601 dates and times', () => {
    expect(momentTime(parseMoment(testIso(3, 9, 30)), now)).toBe(testTime(3, 9, 30));
    expect(momentTime(parseMoment(testIso(3).slice(0, 10)), now)).toBe(testTime(3));
    const offset = testIso(3, 9).replace('.000Z', '+02:00');
    expect(momentTime(parseMoment(offset), now)).toBe(testTime(3, 7));
  });

  it.each([
    ['a word', 'yesterday'],
    ['empty', ''],
    ['a bare number (ambiguous: milliseconds or epoch)', '24'],
    ['a negative duration', '-24h'],
    ['an unknown unit', '3w'],
    ['an exponent', '1e3h'],
    ['beyond ten years', '3651d'],
    ['a date that does not exist', `${new Date(now).getUTCFullYear()}-02-30`],
    ['an hour that does not exist', testIso(3).replace('T00', 'T25')],
    ['a loose date', 'March 7'],
    ['a date with a space', testIso(3).replace('T', ' ')],
    ['before 1970', '1969-12-31'],
  ])('refuses %s', (_, value) => {
    const err = refusal(parseMoment, value);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err?.message).toMatch(
      /^now, a duration back from now \(30m, 24h, 7d; at most 3650d\), or an ISO-8601/,
    );
  });

  it('refuses generated text that is neither a duration nor an ISO-8601 time', () => {
    fc.assert(
      fc.property(
        fc.string().filter((s) => s !== 'now' && !/^\d/.test(s)),
        (value) => {
          expect(refusal(parseMoment, value)).toBeInstanceOf(InvalidArgumentError);
        },
      ),
    );
  });

  it('resolves a range against one now and refuses an empty or inverted one', () => {
    expect(timeRange(parseMoment('7d'), parseMoment('now'), now)).toEqual({
      since: now - 7 * DAY,
      until: now,
    });
    expect(() => timeRange(parseMoment('1h'), parseMoment('2h'), now)).toThrow(
      '--until: must be after --since',
    );
    expect(() => timeRange(parseMoment('now'), parseMoment('now'), now)).toThrow('--until');
  });
});

describe('tenant names (--tenant)', () => {
  it('accepts the names the collectors accept', () => {
    for (const name of ['acme', 'a', 'eu-west:team_1.prod', 'x'.repeat(128)])
      expect(parseTenant(name)).toBe(name);
  });

  it('refuses generated names outside the rule', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string().filter((s) => !/^[A-Za-z0-9_.:-]{1,128}$/.test(s)),
          fc.constant('x'.repeat(129)),
          fc.constant(''),
        ),
        (value) => {
          expect(refusal(parseTenant, value)?.message).toBe(
            'a tenant name: 1 to 128 of letters, digits and _ . : -',
          );
        },
      ),
    );
  });
});

describe('lists of names (--roles, --kinds)', () => {
  const kinds = listOf(['finding', 'incident', 'action', 'event'], (k) => k.replace(/s$/, ''));

  it('accepts known names, deduplicated, with their canonical spelling', () => {
    expect(kinds('findings, incident,finding')).toEqual(['finding', 'incident']);
  });

  it.each([
    ['empty', ''],
    ['only commas', ',,'],
    ['an unknown name', 'finding,alert'],
  ])('refuses %s', (_, v) => {
    expect(refusal(kinds, v)?.message).toBe('a comma-separated list of finding, incident, action, event');
  });
});

describe('the error line', () => {
  /** A command shaped like vigil's, whose errors are captured instead of exiting. */
  function parse(args: string[]): { error: string; exitCode: number } {
    let error = '';
    const program = new VigilCommand()
      .name('vigil')
      .exitOverride()
      .configureOutput({ writeErr: (s) => (error += s), writeOut: () => {} });
    program
      .command('findings')
      .option('--limit <n>', 'at most n', parseLimit, 100)
      .addOption(new Option('--status <status>').choices(['open', 'resolved']))
      .option('--since <time>', 'start', parseMoment)
      .action(() => {});
    program
      .command('kill-switch')
      .argument('[state]', 'on or off', (v: string) => {
        if (v !== 'on' && v !== 'off') throw new InvalidArgumentError('on or off');
        return v;
      })
      .action(() => {});
    try {
      program.parse(['node', 'vigil', ...args]);
    } catch (err) {
      return { error, exitCode: (err as { exitCode: number }).exitCode };
    }
    return { error, exitCode: 0 };
  }

  it('names the option, the accepted form and the usage, on one line', () => {
    expect(parse(['findings', '--limit', 'abc'])).toEqual({
      error: 'error: --limit: a whole number from 1 to 10000 (see vigil findings --help)\n',
      exitCode: 1,
    });
    expect(parse(['findings', '--status', 'opne']).error).toBe(
      'error: --status: one of open, resolved (see vigil findings --help)\n',
    );
    expect(parse(['kill-switch', 'maybe']).error).toBe(
      'error: <state>: on or off (see vigil kill-switch --help)\n',
    );
    expect(parse(['findings', '--bogus']).error).toBe(
      "error: unknown option '--bogus' (see vigil findings --help)\n",
    );
  });

  const ACCEPTED: Record<string, string> = {
    '--limit': 'a whole number from 1 to 10000',
    '--since': TIME_FORM,
    '--status': 'one of open, resolved',
  };

  it('never repeats the refused value, whatever it holds', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ minLength: 3 }),
          fc.constantFrom("x' is invalid. y", "a' is invalid for argument 'b'. c", "alice@example.com'"),
        ),
        fc.constantFrom('--limit', '--since', '--status'),
        (value, flag) => {
          fc.pre(!/^\d/.test(value) && value !== 'now' && value !== 'open' && value !== 'resolved');
          const { error, exitCode } = parse(['findings', `${flag}=${value}`]);
          expect(exitCode).toBe(1);
          expect(error).toBe(`error: ${flag}: ${ACCEPTED[flag]} (see vigil findings --help)\n`);
        },
      ),
    );
  });

  it('falls back to a line without the value for a message it does not know', () => {
    expect(withoutValue('error: something else entirely')).toBe('error: a value is invalid');
  });
});
