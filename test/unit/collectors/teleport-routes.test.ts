// POST /v1/teleport/events and /v1/teleport/sessions/<name>.<sid>.log in process (fastify inject):
// the event handler's two streams (integrations/event-handler: `--fluentd-url`, and
// `--fluentd-session-url` + `.<sid>.log` in session_events_job.go). The audit stream's
// app.session.chunk ties a chunk to its user; the chunk's recording, posted to the session route,
// brings the requests that name no user and the statement events.
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSourceAuth } from '../../../src/collectors/auth.js';
import { createHttpServer } from '../../../src/collectors/http/server.js';
import type { Ingest } from '../../../src/collectors/ingest.js';
import { registerTeleportRoutes } from '../../../src/collectors/teleport/server.js';
import type { AccessEvent } from '../../../src/model/index.js';
import { createTokenizer } from '../../../src/privacy/index.js';
import { createLogger, createMetrics } from '../../../src/telemetry/index.js';
import {
  makeTeleportAppChunk,
  makeTeleportAppRequest,
  makeTeleportPgBind,
  makeTeleportPgExecute,
  makeTeleportPgParse,
  makeTeleportResult,
} from '../../helpers/gateway-fixtures.js';

const TOKEN = `teleport-${randomBytes(12).toString('hex')}`;
const tokenizer = createTokenizer({ version: 1, secret: Buffer.alloc(32, 6) });

describe('Teleport routes', () => {
  const logger = createLogger('silent');
  let app: ReturnType<typeof createHttpServer>;
  let stored: AccessEvent[];

  beforeEach(async () => {
    stored = [];
    const ingest: Ingest = {
      inflight: () => 0,
      async submit(events) {
        stored.push(...events);
      },
    };
    app = createHttpServer({ logger, maxBodyBytes: 1024 * 1024 });
    registerTeleportRoutes(app, {
      auth: createSourceAuth({ teleport: [TOKEN] }),
      ingest,
      tokenizer,
      metrics: createMetrics(),
      logger,
      maxBodyBytes: 1024 * 1024,
    });
    await app.ready();
  });
  afterEach(() => app.close());

  const post = (url: string, events: unknown[], token = TOKEN) =>
    app.inject({
      method: 'POST',
      url,
      payload: events.map((e) => JSON.stringify(e)).join('\n'),
      headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${token}` },
    });

  it('attributes a chunk recording’s requests to the chunk’s user, and takes its statement events', async () => {
    const chunk = makeTeleportAppChunk();
    expect((await post('/v1/teleport/events', [chunk])).json()).toMatchObject({ accepted: 0, ignored: 1 });
    const chunkId = chunk.session_chunk_id as string;
    const r = await post(`/v1/teleport/sessions/recording.${chunkId}.log`, [makeTeleportAppRequest()]);
    expect(r.statusCode).toBe(200);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      actor: tokenizer.token('actor', 'default', 'dana@example.com', 'user'),
      actor_type: 'user',
      session: tokenizer.token('session', 'default', chunkId),
      operation: 'search',
      collection: 'docs',
    });
    const db = await post('/v1/teleport/sessions/recording.307b49d6-56c7-4d20-8cf0-5bc5348a7101.log', [
      makeTeleportPgParse(),
      makeTeleportPgBind(),
      makeTeleportPgExecute(),
      makeTeleportResult(),
    ]);
    expect(db.json()).toMatchObject({ accepted: 2, ignored: 2, rejected_count: 0 });
    expect(stored.slice(1).map((e) => e.operation_raw)).toEqual(['select', 'db.session.result']);
  });

  it('refuses a session path that names no session, and unauthenticated posts', async () => {
    expect((await post('/v1/teleport/sessions/recording.log', [makeTeleportAppRequest()])).statusCode).toBe(
      404,
    );
    expect(
      (await post('/v1/teleport/sessions/x.abc.log', [makeTeleportAppRequest()], 'nope')).statusCode,
    ).toBe(401);
    expect(stored).toHaveLength(0);
  });
});
