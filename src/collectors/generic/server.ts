// POST /v1/events — generic gateway events as NDJSON or a JSON array (gzip accepted).
// Answers 200 {accepted, rejected[]} when at least one event was kept (rejected lines carry their
// number and reason), 400 when none was, 401/403 for credentials, 403 when every event names a
// tenant the token is not bound to (pipeline `tenancy`), 413 over the size limit,
// 429/503 + Retry-After when the pipeline cannot take more. 2xx only once the events are durable.
import type { FastifyInstance } from 'fastify';
import { type AccessEvent, ALL_TENANTS, type TenantSet } from '../../model/index.js';
import { TENANT_REFUSED, tenantRefusal } from '../auth.js';
import type { CollectorDeps } from '../deps.js';
import { decodeBody } from '../http/body.js';
import { replyWithError } from '../http/server.js';
import { splitJsonBody } from '../ndjson.js';
import type { Rejection } from '../reasons.js';
import { normalizeGeneric } from './generic.normalizer.js';

export interface GenericRouteDeps extends CollectorDeps {
  readonly attributeAllowList?: ReadonlySet<string>;
}

export interface ParseContext extends Pick<GenericRouteDeps, 'tokenizer' | 'attributeAllowList'> {
  /**
   * The tenants the sender's credential may write: an event of another tenant is rejected, its
   * line kept with the reason. Absent: every tenant (the operator's own replay and Kafka topic).
   */
  readonly tenants?: TenantSet;
}

export interface ParsedBatch {
  readonly events: AccessEvent[];
  readonly rejected: Rejection[];
}

/** Splits and normalizes a body; pure apart from the tokenizer cache. */
export function parseGenericBody(
  body: Buffer,
  contentType: string,
  deps: ParseContext,
  now: number,
): ParsedBatch {
  const events: AccessEvent[] = [];
  const ctx = { tokenizer: deps.tokenizer, now, attributeAllowList: deps.attributeAllowList };
  const { items, rejected } = splitJsonBody(body, contentType);
  for (const { value, raw, line } of items) {
    // Before normalizing: nothing of a refused tenant is tokenized (nor sealed in the vault).
    const refused =
      deps.tenants !== undefined && deps.tenants !== ALL_TENANTS
        ? refusedTenant(deps.tenants, value)
        : undefined;
    if (refused) {
      rejected.push({ line, reason: refused });
      continue;
    }
    const r = normalizeGeneric(value, raw, ctx);
    if (r.ok) events.push(r.value);
    else rejected.push({ line, reason: r.reason });
  }
  rejected.sort((a, b) => a.line - b.line);
  return { events, rejected };
}

/** The refusal of an item's `tenant` (normalization rejects an item without a valid one). */
function refusedTenant(tenants: TenantSet, value: unknown): string | undefined {
  const tenant =
    typeof value === 'object' && value !== null ? (value as { tenant?: unknown }).tenant : undefined;
  return typeof tenant === 'string' ? tenantRefusal(tenants, tenant) : undefined;
}

export function registerGenericRoutes(app: FastifyInstance, deps: GenericRouteDeps): void {
  app.post('/v1/events', async (req, reply) => {
    const auth = deps.auth.check(req.headers.authorization, 'generic');
    if (!auth.ok) return reply.code(auth.status).send({ error: auth.reason });
    try {
      const body = decodeBody(req.body, req.headers['content-encoding'], deps.maxBodyBytes);
      const now = deps.now?.() ?? Date.now();
      const { events, rejected } = parseGenericBody(
        body,
        req.headers['content-type'] ?? '',
        { tokenizer: deps.tokenizer, attributeAllowList: deps.attributeAllowList, tenants: auth.tenants },
        now,
      );
      deps.metrics.inc('ingest_rejected_generic', rejected.length);
      if (events.length === 0) {
        // Nothing kept, and only because of the tenants: a matter of the credential, not the body.
        const forbidden = rejected.length > 0 && rejected.every((r) => r.reason === TENANT_REFUSED);
        return reply.code(forbidden ? 403 : 400).send({
          ...(forbidden ? { error: TENANT_REFUSED } : {}),
          accepted: 0,
          rejected: rejected.length ? rejected : [{ line: 0, reason: 'no events in body' }],
        });
      }
      await deps.ingest.submit(events);
      deps.metrics.inc('ingest_accepted_generic', events.length);
      return reply.code(200).send({ accepted: events.length, rejected });
    } catch (err) {
      return replyWithError(reply, err);
    }
  });
}
