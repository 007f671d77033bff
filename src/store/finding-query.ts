// Which findings a reader asks for and where a page of them ends: the filters of `vigil findings`
// and GET /v1/findings, and the cursor that continues a listing past one page. Findings are listed
// newest first by (event_time, finding_id); a cursor is the last row's pair, so the next page starts
// strictly after it whatever the page size. A finding re-issued while a reader pages moves to the
// front (its event_time grows): it is not listed twice on later pages, and a reader who wants it
// starts again.
import { z } from 'zod';
import { SEVERITIES, type Severity } from '../model/finding.js';

/** The last row of a page: the next page lists findings strictly older than it. */
export interface FindingCursor {
  /** event_time of the last row (epoch ms). */
  readonly eventTime: number;
  readonly findingId: string;
}

export interface FindingFilter {
  /** event_time at or after (epoch ms). */
  readonly since?: number;
  /** event_time before (epoch ms). */
  readonly until?: number;
  readonly detector?: string;
  /** The entity's token (or name, for a collection). */
  readonly entity?: string;
  /** Only these severities (empty or absent: every one). */
  readonly severities?: readonly Severity[];
  /** Score at least this (0 to 1). */
  readonly minScore?: number;
  readonly after?: FindingCursor;
}

/** A detector name as detectors/ names them. */
export const DETECTOR_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;
/** An entity: a token or a collection name; one line of at most 256 characters, no spaces or controls. */
export const ENTITY_VALUE = /^[^\p{C}\p{Z}]{1,256}$/u;

const MAX_CURSOR_CHARS = 512;
const cursorTuple = z.tuple([z.number().int().min(0), z.string().min(1).max(256)]);

/** A cursor as it travels: base64url of a JSON pair, opaque to the reader. */
export function encodeCursor(c: FindingCursor): string {
  return Buffer.from(JSON.stringify([c.eventTime, c.findingId])).toString('base64url');
}

/** The cursor a text stands for, or undefined when it is not one this module wrote. */
export function decodeCursor(text: string): FindingCursor | undefined {
  if (text.length > MAX_CURSOR_CHARS || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  try {
    const parsed = cursorTuple.safeParse(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
    return parsed.success ? { eventTime: parsed.data[0], findingId: parsed.data[1] } : undefined;
  } catch {
    return undefined;
  }
}

/** The cursor after a page, or undefined when the page was the last (fewer rows than asked). */
export function nextCursor(
  page: ReadonlyArray<{ event_time: number; finding_id: string }>,
  limit: number,
): string | undefined {
  const last = page.at(-1);
  return page.length < limit || !last
    ? undefined
    : encodeCursor({ eventTime: last.event_time, findingId: last.finding_id });
}

/** The response header of GET /v1/findings carrying the cursor of the next page. */
export const NEXT_CURSOR_HEADER = 'vigil-next-cursor';

/** The most rows one request answers: a reader wanting more follows the cursor. */
export const MAX_PAGE = 10_000;

const LIMIT_ERROR = `limit: a whole number from 1 to ${MAX_PAGE} (page further with cursor)`;

/** `limit` of a query string: absent gives `fallback`; anything but 1..MAX_PAGE is refused, not clamped. */
export function pageLimit(text: string | undefined, fallback: number): number | { error: string } {
  if (text === undefined) return fallback;
  const n = /^\d{1,6}$/.test(text) ? Number(text) : Number.NaN;
  return n >= 1 && n <= MAX_PAGE ? n : { error: LIMIT_ERROR };
}

const isoTime = z.string().datetime({ offset: true });

/**
 * The filter of a GET /v1/findings query string, or the first refused field with the reason (never
 * the value). Times are ISO-8601 with an offset; severities a comma-separated list.
 */
export function findingFilterFromQuery(
  q: Record<string, string | undefined>,
): FindingFilter | { error: string } {
  const time = (name: 'since' | 'until') => {
    const v = q[name];
    if (v === undefined) return undefined;
    return isoTime.safeParse(v).success
      ? Date.parse(v)
      : { error: `${name}: an ISO-8601 time with an offset` };
  };
  const since = time('since');
  if (typeof since === 'object') return since;
  const until = time('until');
  if (typeof until === 'object') return until;
  if (since !== undefined && until !== undefined && until <= since)
    return { error: 'until: must be after since' };
  if (q.detector !== undefined && !DETECTOR_NAME.test(q.detector))
    return { error: 'detector: a detector name (lower-case letters, digits and -)' };
  if (q.entity !== undefined && !ENTITY_VALUE.test(q.entity))
    return { error: 'entity: a token or collection name of 1 to 256 characters, no spaces' };
  let severities: Severity[] | undefined;
  if (q.severity !== undefined) {
    const names = q.severity.split(',');
    if (names.some((n) => !(SEVERITIES as readonly string[]).includes(n)))
      return { error: `severity: a comma-separated list of ${SEVERITIES.join(', ')}` };
    severities = [...new Set(names)] as Severity[];
  }
  let minScore: number | undefined;
  if (q.min_score !== undefined) {
    minScore = /^\d+(\.\d+)?$/.test(q.min_score) ? Number(q.min_score) : Number.NaN;
    if (!(minScore >= 0 && minScore <= 1)) return { error: 'min_score: a number from 0 to 1' };
  }
  let after: FindingCursor | undefined;
  if (q.cursor !== undefined) {
    after = decodeCursor(q.cursor);
    if (!after) return { error: 'cursor: not a cursor this API returned' };
  }
  return { since, until, detector: q.detector, entity: q.entity, severities, minScore, after };
}

/** The query string of a filter, as findingFilterFromQuery reads it. */
export function findingFilterToQuery(f: FindingFilter): URLSearchParams {
  const p = new URLSearchParams();
  if (f.since !== undefined) p.set('since', new Date(f.since).toISOString());
  if (f.until !== undefined) p.set('until', new Date(f.until).toISOString());
  if (f.detector !== undefined) p.set('detector', f.detector);
  if (f.entity !== undefined) p.set('entity', f.entity);
  if (f.severities?.length) p.set('severity', f.severities.join(','));
  if (f.minScore !== undefined) p.set('min_score', String(f.minScore));
  if (f.after) p.set('cursor', encodeCursor(f.after));
  return p;
}
