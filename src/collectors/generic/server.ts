// POST /v1/events — generic gateway events as NDJSON or a JSON array (gzip accepted).
// Answers 200 {accepted, rejected[], rejected_count} when at least one event was kept (rejected
// lines carry their number and reason; the first 100 are listed, rejected_count counts them all),
// 400 when none was, 401/403 for credentials (checked before the body is read), 403 when every
// event names a tenant the token is not bound to (pipeline `tenancy`), 413 over the size limit or
// over VIGIL_MAX_ITEMS_PER_REQUEST items, 429 + Retry-After for an address throttled after
// repeated refused credentials, 429/503 + Retry-After when the pipeline cannot take more.
// 2xx only once the events are durable.
import type { FastifyInstance } from 'fastify';
import { type AccessEvent, ALL_TENANTS, type TenantSet } from '../../model/index.js';
import { TENANT_REFUSED, tenantRefusal } from '../auth.js';
import type { CollectorDeps } from '../deps.js';
import { authenticated, bearerAuthentication } from '../http/authenticate.js';
import { decodeBodyAsync } from '../http/body.js';
import { replyWithError } from '../http/server.js';
import { DEFAULT_MAX_ITEMS, frameJsonBody, type ItemLimits, isRejection, itemAt } from '../ndjson.js';
import { isExpiredReason } from '../normalize.js';
import { type Rejection, RejectionList } from '../reasons.js';
import { runSliced, runToEnd, type Steps } from '../slices.js';
import { normalizeGeneric } from './generic.normalizer.js';
import type { UnknownFieldPolicy } from './unknown-fields.js';

export interface GenericRouteDeps extends CollectorDeps {
  readonly attributeAllowList?: ReadonlySet<string>;
}

export interface ParseContext
  extends Pick<GenericRouteDeps, 'tokenizer' | 'attributeAllowList' | 'retentionDays'> {
  /** History imports only: unknown top-level fields become attributes (unknown-fields.ts). */
  readonly unknownFields?: UnknownFieldPolicy;
  /**
   * The tenants the sender's credential may write: an event of another tenant is rejected, its
   * line kept with the reason. Absent: every tenant (the operator's own replay and Kafka topic).
   */
  readonly tenants?: TenantSet;
}

export interface ParsedBatch {
  readonly events: AccessEvent[];
  /** The first rejections (MAX_LISTED_REJECTIONS), by line. */
  readonly rejected: Rejection[];
  /** Every rejection, listed or not. */
  readonly rejectedCount: number;
  /** Rejections because of the credential's tenants (TENANT_REFUSED), listed or not. */
  readonly tenantRefusedCount: number;
  /** Rejections because the event time is past the events retention, listed or not. */
  readonly expiredCount: number;
}

/**
 * Splits and normalizes a body, pausing between items; pure apart from the tokenizer cache.
 * @throws HttpError 400 (not UTF-8, broken JSON document) or 413 (more items than the limit)
 */
export function* genericBatch(
  body: Buffer,
  contentType: string,
  deps: ParseContext,
  now: number,
  limits: ItemLimits = { maxItems: DEFAULT_MAX_ITEMS },
): Steps<ParsedBatch> {
  const events: AccessEvent[] = [];
  const rejected = new RejectionList();
  const ctx = {
    tokenizer: deps.tokenizer,
    now,
    attributeAllowList: deps.attributeAllowList,
    unknownFields: deps.unknownFields,
    retentionDays: deps.retentionDays,
  };
  const bound = deps.tenants !== undefined && deps.tenants !== ALL_TENANTS ? deps.tenants : undefined;
  let tenantRefusedCount = 0;
  let expiredCount = 0;
  const framed = yield* frameJsonBody(body, contentType, limits);
  for (let i = 0; i < framed.count; i++) {
    const item = itemAt(framed, i);
    if (isRejection(item)) rejected.add(item);
    else {
      // Before normalizing: nothing of a refused tenant is tokenized (nor sealed in the vault).
      const refused = bound ? refusedTenant(bound, item.value) : undefined;
      if (refused) {
        tenantRefusedCount++;
        rejected.add({ line: item.line, reason: refused });
      } else {
        const r = normalizeGeneric(item.value, item.raw, ctx, rejected.listing);
        if (r.ok) events.push(r.value);
        else {
          if (isExpiredReason(r.reason)) expiredCount++;
          rejected.add({ line: item.line, reason: r.reason });
        }
      }
    }
    if (i % 32 === 31) yield;
  }
  return {
    events,
    rejected: rejected.listed,
    rejectedCount: rejected.count,
    tenantRefusedCount,
    expiredCount,
  };
}

/** The refusal of an item's `tenant` (normalization rejects an item without a valid one). */
function refusedTenant(tenants: TenantSet, value: unknown): string | undefined {
  const tenant =
    typeof value === 'object' && value !== null ? (value as { tenant?: unknown }).tenant : undefined;
  return typeof tenant === 'string' ? tenantRefusal(tenants, tenant) : undefined;
}

/** `genericBatch` run straight through (the Kafka source's decoder, the CLI, replays). */
export function parseGenericBody(
  body: Buffer,
  contentType: string,
  deps: ParseContext,
  now: number,
  limits?: ItemLimits,
): ParsedBatch {
  return runToEnd(genericBatch(body, contentType, deps, now, limits));
}

export function registerGenericRoutes(app: FastifyInstance, deps: GenericRouteDeps): void {
  const limits = { maxItems: deps.maxItemsPerRequest ?? DEFAULT_MAX_ITEMS };
  app.post(
    '/v1/events',
    { onRequest: bearerAuthentication(deps, 'generic', 'generic') },
    async (req, reply) => {
      try {
        const { tenants } = authenticated(req);
        const body = await decodeBodyAsync(req.body, req.headers['content-encoding'], deps.maxBodyBytes);
        const now = deps.now?.() ?? Date.now();
        const ctx = {
          tokenizer: deps.tokenizer,
          attributeAllowList: deps.attributeAllowList,
          retentionDays: deps.retentionDays,
          tenants,
        };
        const { events, rejected, rejectedCount, tenantRefusedCount, expiredCount } = await runSliced(
          genericBatch(body, req.headers['content-type'] ?? '', ctx, now, limits),
        );
        deps.metrics.inc('ingest_rejected_generic', rejectedCount);
        deps.metrics.inc('ingest_rejected_expired', expiredCount);
        if (events.length === 0) {
          // Nothing kept, and only because of the tenants: a matter of the credential, not the body.
          const forbidden = rejectedCount > 0 && tenantRefusedCount === rejectedCount;
          return reply.code(forbidden ? 403 : 400).send({
            ...(forbidden ? { error: TENANT_REFUSED } : {}),
            accepted: 0,
            rejected: rejected.length ? rejected : [{ line: 0, reason: 'no events in body' }],
            rejected_count: rejectedCount,
          });
        }
        await deps.ingest.submit(events);
        deps.metrics.inc('ingest_accepted_generic', events.length);
        return reply.code(200).send({ accepted: events.length, rejected, rejected_count: rejectedCount });
      } catch (err) {
        return replyWithError(reply, err);
      }
    },
  );
}
