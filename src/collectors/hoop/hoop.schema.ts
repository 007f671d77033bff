// What hoop.dev sends: its webhook events (`session.open`, `session.close`, delivered through Svix)
// and the sessions of its API (`GET /api/sessions`). Field names are hoop.dev's. Objects are not
// strict: the product adds fields over time, and fields vigil does not map are dropped here.
import { z } from 'zod';

const text = (max: number) => z.string().max(max, `must be at most ${max} characters`);
const sessionId = text(128).min(1, 'must not be empty');

export const hoopSessionOpenSchema = z
  .object({
    event_type: z.literal('session.open'),
    id: sessionId,
    user_id: text(512).optional(),
    user_email: text(512).optional(),
    connection: text(256).optional(),
    /** Only `database`, `application` or `custom` (gateway/transport/plugins/types/types.go). */
    connection_type: text(64).optional(),
    /** The keys (never values) of the connection's secrets, e.g. `envvar:HOST`. */
    connection_envs: z.array(text(256)).max(256, 'must have at most 256 items').nullish(),
    /** Base64 of the session's input (the script), cut at 10 KB by hoop.dev. */
    input: z
      .string()
      .max(1024 * 1024, 'must be at most 1 MiB')
      .regex(/^[A-Za-z0-9+/=\s_-]*$/, 'must be base64')
      .nullish(),
    is_input_truncated: z.boolean().nullish(),
    input_size: z.number().nonnegative('must be >= 0').nullish(),
    /** The connection's command plus the client's arguments (an array, though its JSON schema says string). */
    command: z.union([z.array(z.string().max(4096)).max(1024), z.string().max(64 * 1024)]).nullish(),
    verb: text(32).nullish(),
    review: z
      .object({ type: text(32).nullish(), status: text(32).nullish(), owner_email: text(512).nullish() })
      .nullish(),
  })
  .refine((e) => Boolean(e.user_email || e.user_id), {
    message: 'one of user_email or user_id is required',
    path: ['user_email'],
  });

export const hoopSessionCloseSchema = z.object({
  event_type: z.literal('session.close'),
  id: sessionId,
  connection: text(256).nullish(),
  connection_type: text(64).nullish(),
  /** -100 when hoop.dev could not tell the exit status. */
  exit_code: z.number().int('must be an integer').nullish(),
  exit_err: z.string().nullish(),
});

export type HoopSessionOpen = z.infer<typeof hoopSessionOpenSchema>;
export type HoopSessionClose = z.infer<typeof hoopSessionCloseSchema>;

/** One session of `GET /api/sessions` (and `GET /api/sessions/{id}`). */
export const hoopApiSessionSchema = z.object({
  id: sessionId,
  /** The user's email. */
  user: text(512).nullish(),
  user_id: text(512).nullish(),
  identity_type: text(32).nullish(),
  connection: text(256).nullish(),
  /** Connection type (`database`, `application`, `custom`) and its implementation (`postgres`, …). */
  type: text(64).nullish(),
  connection_subtype: text(64).nullish(),
  verb: text(32).nullish(),
  script: z.union([z.object({ data: z.string().nullish() }), z.string()]).nullish(),
  status: text(32).nullish(),
  exit_code: z.number().int('must be an integer').nullish(),
  start_date: z.string().max(64, 'must be at most 64 characters'),
  end_date: z.string().max(64).nullish(),
  review: z.object({ type: text(32).nullish(), status: text(32).nullish() }).nullish(),
  guardrails_info: z
    .array(z.object({ rule_name: z.string().nullish(), direction: z.string().nullish() }))
    .nullish(),
  ai_analysis: z.object({ risk_level: text(32).nullish(), action: text(32).nullish() }).nullish(),
  metrics: z
    .object({
      data_masking: z.object({ total_redact_count: z.number().nullish() }).nullish(),
    })
    .nullish(),
});

export type HoopApiSession = z.infer<typeof hoopApiSessionSchema>;

/**
 * The list envelope of `GET /api/sessions` (openapi.SessionList: `data`, `total` capped at 10,000
 * unless `count=exact`, `total_is_capped`, `has_next_page`).
 */
export const hoopSessionListSchema = z.object({
  data: z.array(z.unknown()).nullish(),
  has_next_page: z.boolean().nullish(),
  total: z.number().nullish(),
  total_is_capped: z.boolean().nullish(),
});
