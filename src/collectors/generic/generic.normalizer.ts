// Generic gateway event → canonical AccessEvent, tokenized. Pure apart from the tokenizer cache.
import { type AccessEvent, canonicalOperation, deterministicId } from '../../model/index.js';
import { setQueryFields, type Tokenizer } from '../../privacy/index.js';
import {
  blankEvent,
  expiredTimeReason,
  outcomeFromStatus,
  parseEventTime,
  type RetentionBound,
} from '../normalize.js';
import { describeZodError, type NormalizeResult, UNLISTED_REASON } from '../reasons.js';
import {
  type GenericEventInput,
  genericEventRejects,
  genericEventSchema,
  isPlainGenericEvent,
} from './generic.schema.js';
import { liftUnknownFields, type UnknownFieldPolicy } from './unknown-fields.js';

export interface NormalizeContext extends RetentionBound {
  readonly tokenizer: Tokenizer;
  readonly now: number;
  /** Attribute keys kept (others dropped); values are stored as given. */
  readonly attributeAllowList?: ReadonlySet<string>;
  /**
   * History imports only (replay): unknown top-level fields become attributes instead of rejecting
   * the line (see unknown-fields.ts). Absent: the strict contract of the HTTP collector.
   */
  readonly unknownFields?: UnknownFieldPolicy;
}

/**
 * @param raw the parsed JSON value of one line
 * @param rawText the line's text, hashed into event_id when the event carries no id of its own
 * @param describe false when a rejection's reason will not be shown (past the listed ones): an
 * invalid event is then refused without zod wording why
 */
export function normalizeGeneric(
  raw: unknown,
  rawText: string,
  ctx: NormalizeContext,
  describe = true,
): NormalizeResult<AccessEvent> {
  if (ctx.unknownFields) raw = liftUnknownFields(raw, ctx.unknownFields, ctx.attributeAllowList);
  let g: GenericEventInput;
  if (isPlainGenericEvent(raw)) g = raw;
  else if (!describe && genericEventRejects(raw)) return { ok: false, reason: UNLISTED_REASON };
  else {
    const parsed = genericEventSchema.safeParse(raw);
    if (!parsed.success) return { ok: false, reason: describeZodError(parsed.error) };
    g = parsed.data;
  }
  const actorType = g.actor_type ?? 'user';
  const time = parseEventTime(g.time, ctx.now);
  if (time === undefined)
    return { ok: false, reason: 'time: not an ISO-8601 time or epoch number within 2000 … now+24h' };
  const expired = expiredTimeReason('time', time, ctx.now, ctx);
  if (expired) return { ok: false, reason: expired };
  const { tokenizer } = ctx;
  const tenant = g.tenant;
  const status = g.status_code;
  const e = blankEvent(ctx.now);
  e.event_id = deterministicId('generic', tenant, g.id ?? rawText);
  e.time = time;
  e.tenant = tenant;
  e.source = 'generic';
  e.actor_type = actorType;
  e.actor = tokenizer.token('actor', tenant, (g.actor ?? g.user)!, actorType);
  e.credential = tokenizer.token('credential', tenant, g.credential ?? '');
  e.session = tokenizer.token('session', tenant, g.session ?? '');
  Object.assign(e, tokenizer.address(tenant, g.src_ip ?? ''));
  e.client = g.client ?? '';
  e.system = g.system.toLowerCase();
  e.operation = canonicalOperation(g.operation);
  e.operation_raw = g.operation;
  e.collection = g.collection ?? '';
  e.namespace = g.namespace ?? '';
  e.top_k = g.top_k ?? null;
  e.returned = g.returned ?? null;
  e.vectors_returned = g.vectors_returned ?? null;
  e.bytes_out = g.bytes_out ?? null;
  e.outcome = g.outcome ?? outcomeFromStatus(status);
  e.status_code = status ?? 0;
  e.error_type = g.error_type ?? '';
  e.masked = g.masked ?? false;
  e.review = g.review ?? false;
  e.blocked = g.blocked ?? false;
  e.latency_ms = g.latency_ms ?? 0;
  setQueryFields(e, g.query, tokenizer.queryText);
  e.trace_id = g.trace_id ?? '';
  e.span_id = g.span_id ?? '';
  if (g.attributes && ctx.attributeAllowList?.size) {
    for (const [k, v] of Object.entries(g.attributes))
      if (ctx.attributeAllowList.has(k)) e.attributes[k] = String(v);
  }
  return { ok: true, value: e };
}
