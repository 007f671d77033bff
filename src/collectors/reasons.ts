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
