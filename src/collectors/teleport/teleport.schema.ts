// Teleport audit events as its event handler (or a fluentd forwarder) posts them: one JSON object
// per event, Teleport's own field names (flat, `addr.remote` included). Only the fields vigil maps
// are described; others are dropped here. Objects are not strict: Teleport adds fields over time.
import { z } from 'zod';
import { compileRejects } from '../schema-verdict.js';

const text = (max: number) => z.string().max(max, `must be at most ${max} characters`);

export const teleportEventSchema = z.object({
  event: text(128).min(1, 'must not be empty'),
  code: text(16).nullish(),
  /** Absent from some events (the MySQL statement samples): the id is then derived (normalizer). */
  uid: text(128).min(1, 'must not be empty').nullish(),
  /** Event index within its session. */
  ei: z.number().int('must be an integer').nonnegative('must be >= 0').nullish(),
  time: z.union([text(64), z.number()]),
  cluster_name: text(256).nullish(),
  sid: text(128).nullish(),
  user: text(512).nullish(),
  /** 1 human, 2 bot (Machine ID), 3 system (a Teleport component); 0 unspecified. */
  user_kind: z.number().int('must be an integer').nullish(),
  login: text(256).nullish(),
  user_roles: z.array(z.string()).nullish(),
  success: z.boolean().nullish(),
  error: z.string().nullish(),
  'addr.remote': text(128).nullish(),
  user_agent: text(1024).nullish(),
  // Database access.
  db_service: text(256).nullish(),
  db_protocol: text(64).nullish(),
  db_uri: text(1024).nullish(),
  db_name: text(256).nullish(),
  db_user: text(256).nullish(),
  db_type: text(64).nullish(),
  db_query: z
    .string()
    .max(4 * 1024 * 1024, 'must be at most 4 MiB')
    .nullish(),
  affected_records: z.number().int('must be an integer').nonnegative('must be >= 0').nullish(),
  /** Statement events (`db.session.postgres.statements.parse`, `….mysql.statements.prepare`, …). */
  query: z
    .string()
    .max(4 * 1024 * 1024, 'must be at most 4 MiB')
    .nullish(),
  statement_name: text(256).nullish(),
  portal_name: text(256).nullish(),
  /** `db.session.end` / `session.end`: when the session started and stopped. */
  session_start: text(64).nullish(),
  session_stop: text(64).nullish(),
  /** Elasticsearch / OpenSearch: the index; DynamoDB: the API target (`DynamoDB_20120810.Scan`). */
  target: text(1024).nullish(),
  /** Elasticsearch / OpenSearch request category: 0 general, 1 security, 2 search, 3 SQL. */
  category: z.number().int('must be an integer').nullish(),
  /** `db.session.user.create` / `.deactivate`: the database user provisioned. */
  username: text(256).nullish(),
  /** `db.session.mysql.create_db` / `drop_db` / `init_db`. */
  schema_name: text(256).nullish(),
  /** `session.rejected`: why. */
  reason: text(1024).nullish(),

  // Application access.
  app_name: text(256).nullish(),
  app_uri: text(1024).nullish(),
  app_public_addr: text(1024).nullish(),
  /** `app.session.start` names the app's address `public_addr`. */
  public_addr: text(1024).nullish(),
  session_chunk_id: text(128).nullish(),
  /** HTTP method of a request; `user.login`'s login method (local, oidc, saml, …). */
  method: text(32).nullish(),
  path: text(8192).nullish(),
  raw_query: text(16 * 1024).nullish(),
  status_code: z.number().int('must be an integer').nullish(),
  /** `db.session.spanner.rpc`: the RPC's arguments (`sql` for ExecuteSql). */
  args: z.unknown().optional(),
  /** Some request events carry the request body (`app.session.dynamodb.request` does). */
  body: z.unknown().optional(),
});

export type TeleportEvent = z.infer<typeof teleportEventSchema>;

/**
 * True only when `teleportEventSchema` refuses `v` (schema-verdict.ts): a body's rejections past the
 * listed ones skip zod.
 */
export const teleportEventRejects = compileRejects(teleportEventSchema);
