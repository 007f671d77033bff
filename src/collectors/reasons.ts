// Rejection reasons that name the field and say what is wrong, without ever echoing the value
// (a rejected value may be an email or an API key).
import type { ZodError, ZodIssue } from 'zod';

export interface Rejection {
  /** 1-based line (NDJSON) or item (JSON array) number. */
  readonly line: number;
  readonly reason: string;
}

export type NormalizeResult<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Field names are shown only when they look like field names: a key of a free-form map is data. */
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,39}$/;

/** The path down to the first segment that is not a plain field name or an index. */
function fieldPath(path: ReadonlyArray<string | number>): string {
  const shown: Array<string | number> = [];
  for (const seg of path) {
    if (typeof seg === 'number' || FIELD_NAME.test(seg)) shown.push(seg);
    else {
      shown.push('<key>');
      break;
    }
  }
  return shown.length ? shown.join('.') : 'event';
}

export function describeIssue(issue: ZodIssue): string {
  const field = fieldPath(issue.path);
  switch (issue.code) {
    case 'invalid_type':
      return issue.received === 'undefined'
        ? `${field}: is required`
        : `${field}: expected ${issue.expected}, got ${issue.received}`;
    case 'invalid_enum_value':
      return `${field}: must be one of ${issue.options.join(', ')}`;
    case 'unrecognized_keys':
      return `${field}: unknown field(s) ${issue.keys
        .slice(0, 5)
        .map((k) => (FIELD_NAME.test(k) ? k : '<key>'))
        .join(', ')}`;
    case 'too_small':
    case 'too_big':
    case 'invalid_string':
    case 'custom':
    case 'invalid_date':
    case 'not_finite':
    case 'not_multiple_of':
      return `${field}: ${issue.message}`;
    default:
      return `${field}: invalid value`;
  }
}

export function describeZodError(err: ZodError): string {
  return err.issues.slice(0, 5).map(describeIssue).join('; ');
}

/**
 * Rejections listed in an answer: the first ones by line. A hostile body of 50,000 invalid items
 * would otherwise be answered with megabytes of reasons; the rest are only counted.
 */
export const MAX_LISTED_REJECTIONS = 100;

/** Rejections of one body: the first `max` listed with their reasons, every one counted. */
export class RejectionList {
  readonly listed: Rejection[] = [];
  count = 0;
  constructor(readonly max = MAX_LISTED_REJECTIONS) {}

  /** True while a new rejection would still be listed: only then is its reason worth wording. */
  get listing(): boolean {
    return this.listed.length < this.max;
  }

  add(rejection: Rejection): void {
    this.count++;
    if (this.listed.length < this.max) this.listed.push(rejection);
  }
}

/** The reason a rejection past the listed ones carries: it is counted, never shown. */
export const UNLISTED_REASON = 'invalid (not described: past the listed rejections)';
