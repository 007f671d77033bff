// POST /v1/events — generic gateway events as NDJSON or a JSON array (gzip accepted).
// Answers 200 {accepted, rejected[]} when at least one event was kept (rejected lines carry their
// number and reason), 400 when none was, 401/403 for credentials, 413 over the size limit,
// 429/503 + Retry-After when the pipeline cannot take more. 2xx only once the events are durable.
import type { FastifyInstance } from 'fastify';
import type { AccessEvent } from '../../model/index.js';
import type { CollectorDeps } from '../deps.js';
import { decodeBody } from '../http/body.js';
import { replyWithError } from '../http/server.js';
import { splitJsonBody } from '../ndjson.js';
import type { Rejection } from '../reasons.js';
import { normalizeGeneric } from './generic.normalizer.js';

export interface GenericRouteDeps extends CollectorDeps {
  readonly attributeAllowList?: ReadonlySet<string>;
}

export interface ParsedBatch {
  readonly events: AccessEvent[];
  readonly rejected: Rejection[];
}

/** Splits and normalizes a body; pure apart from the tokenizer cache. */
export function parseGenericBody(
  body: Buffer,
  contentType: string,
  deps: Pick<GenericRouteDeps, 'tokenizer' | 'attributeAllowList'>,
  now: number,
): ParsedBatch {
  const events: AccessEvent[] = [];
  const ctx = { tokenizer: deps.tokenizer, now, attributeAllowList: deps.attributeAllowList };
  const { items, rejected } = splitJsonBody(body, contentType);
  for (const { value, raw, line } of items) {
    const r = normalizeGeneric(value, raw, ctx);
    if (r.ok) events.push(r.value);
    else rejected.push({ line, reason: r.reason });
  }
  rejected.sort((a, b) => a.line - b.line);
  return { events, rejected };
}

export function registerGenericRoutes(app: FastifyInstance, deps: GenericRouteDeps): void {
  app.post('/v1/events', async (req, reply) => {
    const auth = deps.auth.check(req.headers.authorization, 'generic');
    if (!auth.ok) return reply.code(auth.status).send({ error: auth.reason });
    try {
      const body = decodeBody(req.body, req.headers['content-encoding'], deps.maxBodyBytes);
      const now = deps.now?.() ?? Date.now();
      const { events, rejected } = parseGenericBody(body, req.headers['content-type'] ?? '', deps, now);
      deps.metrics.inc('ingest_rejected_generic', rejected.length);
      if (events.length === 0) {
        return reply.code(400).send({
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
