// The value grammar of every `vigil` option: whole numbers in a range, decimals in a range, points
// in time, and the error line commander prints for a refused value. Each parser accepts by an
// allow-list of forms and throws commander's InvalidArgumentError, so a bad value stops the command
// before it runs with one line naming the option and the accepted form (never echoing the value:
// it may be a pasted identifier) and a non-zero exit code.
import { Command, InvalidArgumentError } from 'commander';
import { z } from 'zod';
import { parseDuration } from '../config/duration.js';
import { TENANT_NAME } from '../model/tenant.js';
import { DETECTOR_NAME, ENTITY_VALUE } from '../store/finding-query.js';

/** A parser for commander's `.argParser`: the value, or InvalidArgumentError saying what is accepted. */
export type ArgParser<T> = (value: string) => T;

/** A whole number from `min` to `max`, written as decimal digits only (no sign, point or exponent). */
export function integerIn(min: number, max: number): ArgParser<number> {
  return (value) => {
    const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!(n >= min && n <= max)) throw new InvalidArgumentError(`a whole number from ${min} to ${max}`);
    return n;
  };
}

/** A decimal number from `min` to `max` (`12`, `0.5`; no sign or exponent). */
export function decimalIn(min: number, max: number): ArgParser<number> {
  return (value) => {
    const n = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
    if (!(n >= min && n <= max)) throw new InvalidArgumentError(`a number from ${min} to ${max}`);
    return n;
  };
}

/** `--tenant`: a tenant name by the collectors' rule (src/model/tenant.ts). */
export const parseTenant: ArgParser<string> = (value) => {
  if (!TENANT_NAME.test(value))
    throw new InvalidArgumentError('a tenant name: 1 to 128 of letters, digits and _ . : -');
  return value;
};

/** `--limit`: the admin API answers at most 10,000 rows, so the direct path asks for no more. */
export const parseLimit = integerIn(1, 10_000);

/** `findings --limit`: what one listing may print; the CLI pages past the admin API's page size. */
export const FINDINGS_LIMIT_MAX = 1_000_000;

/** `--detector`: a detector name (src/store/finding-query.ts holds the rule the admin API applies too). */
export const parseDetector: ArgParser<string> = (value) => {
  if (!DETECTOR_NAME.test(value))
    throw new InvalidArgumentError('a detector name: lower-case letters, digits and -');
  return value;
};

/** `--entity`: a token or collection name, as the admin API accepts it. */
export const parseEntity: ArgParser<string> = (value) => {
  if (!ENTITY_VALUE.test(value))
    throw new InvalidArgumentError('a token or collection name of 1 to 256 characters, no spaces');
  return value;
};

/**
 * A point in time as given on the command line: `ago` milliseconds before the moment the command
 * runs, or `at` an absolute epoch-ms time. Kept unresolved so one command resolves all its times
 * against the same `now`.
 */
export type Moment = { readonly ago: number } | { readonly at: number };

/** The farthest back a duration may reach: ten years, well inside every store's date range. */
const MAX_AGO_MS = 3650 * 86_400_000;
/** ISO-8601 years the store's DateTime64 columns hold comfortably. */
const MIN_AT = Date.UTC(1970, 0, 1);
const MAX_AT = Date.UTC(2299, 11, 31);

/** zod's ISO-8601 validators are the authority on the form (and on the calendar: no 30 February). */
const isoDate = z.string().date();
const isoDateTime = z.string().datetime({ offset: true, local: true });

export const TIME_FORM =
  'now, a duration back from now (30m, 24h, 7d; at most 3650d), or an ISO-8601 date or time (2026-01-31, 2026-01-31T09:00:00Z)';

/**
 * The one time grammar of every `--since`/`--until`: `now`; a duration back from now with its unit
 * (`ms`, `s`, `m`, `h`, `d`, as in configuration, src/config/duration.ts); or an ISO-8601 date (UTC
 * midnight) or date-time (with an offset, else local time).
 */
export const parseMoment: ArgParser<Moment> = (value) => {
  if (value === 'now') return { ago: 0 };
  if (/^\d+(\.\d+)?(ms|s|m|h|d)$/.test(value)) {
    const ago = parseDuration(value);
    if (ago !== undefined && ago <= MAX_AGO_MS) return { ago };
  } else if (isoDate.safeParse(value).success || isoDateTime.safeParse(value).success) {
    const at = Date.parse(value);
    if (at >= MIN_AT && at <= MAX_AT) return { at };
  }
  throw new InvalidArgumentError(TIME_FORM);
};

/** The epoch-ms time of a moment for a command that runs at `now`. */
export const momentTime = (m: Moment, now: number): number => ('ago' in m ? now - m.ago : m.at);

/** A `--since`/`--until` pair resolved against one `now`; `until` must come after `since`. */
export function timeRange(since: Moment, until: Moment, now: number): { since: number; until: number } {
  const range = { since: momentTime(since, now), until: momentTime(until, now) };
  if (range.until <= range.since) throw new Error('--until: must be after --since');
  return range;
}

/**
 * A comma-separated list of names from `known` (at least one), deduplicated, in the given order.
 * `normalize` maps a written name to its canonical one (e.g. a plural to the singular).
 */
export function listOf<T extends string>(
  known: readonly T[],
  normalize: (name: string) => string = (n) => n,
): ArgParser<T[]> {
  return (value) => {
    const names = value
      .split(',')
      .map((n) => normalize(n.trim()))
      .filter(Boolean);
    if (names.length === 0 || names.some((n) => !(known as readonly string[]).includes(n)))
      throw new InvalidArgumentError(`a comma-separated list of ${known.join(', ')}`);
    return [...new Set(names)] as T[];
  };
}

/**
 * The command class of `vigil`: commander's, with refused values reported on one line that names
 * the option or argument, says what it accepts and where the usage is, without the value itself.
 */
export class VigilCommand extends Command {
  override createCommand(name?: string): VigilCommand {
    return new VigilCommand(name);
  }

  override error(message: string, errorOptions?: { code?: string; exitCode?: number }): never {
    const line = errorOptions?.code === 'commander.invalidArgument' ? withoutValue(message) : message;
    return super.error(`${line} (see ${commandPath(this)} --help)`, errorOptions);
  }
}

/**
 * commander's invalid-value message, `error: option '<flags>' argument '<value>' is invalid. <why>`
 * (or `command-argument value '<value>' is invalid for argument '<name>'. <why>`), without the value.
 * The parts are found from the end, so whatever the value holds cannot move them.
 */
export function withoutValue(message: string): string {
  const why = (tail: string) => tail.replace(/^Allowed choices are (.*)\.$/, 'one of $1');
  const option = /^error: option '([^' ]+)[^']*' /.exec(message);
  const optionEnd = message.lastIndexOf("' is invalid. ");
  if (option && optionEnd >= 0) return `error: ${option[1]}: ${why(message.slice(optionEnd + 14))}`;
  const argument = /' is invalid for argument '([^']+)'\. (.*)$/.exec(message);
  if (argument) return `error: <${argument[1]}>: ${why(argument[2]!)}`;
  return 'error: a value is invalid';
}

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}
