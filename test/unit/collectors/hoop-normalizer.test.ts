// hoop.dev webhook events and API sessions → canonical events: what the session did (from its
// script), who did it (tokenized), and the gateway's decisions (review, guardrails, masking).
import { describe, expect, it } from 'vitest';
import {
  normalizeHoopApiSession,
  normalizeHoopWebhook,
  openedSessionOf,
} from '../../../src/collectors/hoop/hoop.normalizer.js';
import { accessEventSchema, type AccessEvent } from '../../../src/model/index.js';
import { createTokenizer, queryHash } from '../../../src/privacy/index.js';
import {
  makeHoopApiSession,
  makeHoopDbRolesJobFinished,
  makeHoopSessionClose,
  makeHoopSessionOpen,
  makeHoopTeamsReviewCard,
} from '../../helpers/gateway-fixtures.js';

const NOW = Date.now();
const tokenizer = createTokenizer({ version: 1, secret: Buffer.alloc(32, 9) });
const ctx = { tokenizer, tenant: 'acme', now: NOW, time: NOW - 1000 };

function webhook(raw: unknown, over: Partial<typeof ctx> & { openedSession?: never } = {}): AccessEvent {
  const r = normalizeHoopWebhook(raw, { ...ctx, ...over });
  if (!r.ok) throw new Error(r.reason);
  if (!r.value) throw new Error('ignored');
  expect(accessEventSchema.safeParse(r.value).success).toBe(true);
  return r.value;
}

function api(raw: unknown): AccessEvent {
  const r = normalizeHoopApiSession(raw, { tokenizer, tenant: 'acme', now: NOW });
  if (!r.ok) throw new Error(r.reason);
  expect(accessEventSchema.safeParse(r.value).success).toBe(true);
  return r.value;
}

describe('hoop.dev session.open', () => {
  it('maps a pgvector search: system, operation, collection, top_k, tokenized identities', () => {
    const open = makeHoopSessionOpen();
    const e = webhook(open);
    expect(e).toMatchObject({
      source: 'hoop',
      tenant: 'acme',
      time: NOW - 1000,
      system: 'pgvector',
      operation: 'search',
      operation_raw: 'select',
      collection: 'docs',
      top_k: 5,
      actor_type: 'user',
      actor: tokenizer.token('actor', 'acme', 'alice@example.com', 'user'),
      session: tokenizer.token('session', 'acme', open.id),
      credential: '',
      outcome: 'allowed',
      review: false,
    });
    expect(e.actor).toMatch(/^usr_k1_/);
    expect(e.query_hash).toBe(
      queryHash("SELECT id FROM docs ORDER BY embedding <-> '[0.1,0.2,0.3]' LIMIT 5"),
    );
    expect(e.attributes).toMatchObject({ 'hoop.connection': 'pg-rag', 'hoop.verb': 'exec' });
    // Nothing raw survives: no email, no script text.
    const text = JSON.stringify(e);
    expect(text).not.toContain('alice');
    expect(text).not.toContain('embedding');
  });

  it('derives a deterministic event id from the session id and event type', () => {
    const open = makeHoopSessionOpen();
    expect(webhook(open).event_id).toBe(webhook({ ...open }).event_id);
    const close = makeHoopSessionClose({ id: open.id });
    expect(webhook(close).event_id).not.toBe(webhook(open).event_id);
  });

  it('keeps postgres without vector operators as postgres, and reads other scripts', () => {
    expect(webhook(makeHoopSessionOpen({ script: 'SELECT * FROM orders WHERE id = 1' }))).toMatchObject({
      system: 'postgres',
      operation: 'fetch',
      collection: 'orders',
    });
    const curl = makeHoopSessionOpen({
      connection: 'qdrant-prod',
      connection_type: 'custom',
      command: ['bash'],
      script: `curl -X POST http://qdrant:6333/collections/support/points/scroll -d '{"limit": 1000}'`,
    });
    expect(webhook(curl)).toMatchObject({
      system: 'qdrant',
      operation: 'scroll',
      collection: 'support',
      top_k: 1000,
    });
    const python = makeHoopSessionOpen({
      connection: 'py-runner',
      connection_type: 'custom',
      command: ['python3'],
      script: `from pymilvus import MilvusClient\nc = MilvusClient("http://m:19530")\nc.search(collection_name="faq", data=[[0.1]], limit=10)`,
    });
    expect(webhook(python)).toMatchObject({
      system: 'milvus',
      operation: 'search',
      collection: 'faq',
      top_k: 10,
    });
    expect(
      webhook(
        makeHoopSessionOpen({
          connection_type: 'custom',
          connection: 'bash',
          command: ['bash'],
          script: 'ls -la',
        }),
      ),
    ).toMatchObject({
      // `custom` is a connection type, not a system: nothing hoop.dev sent names one.
      system: 'unknown',
      operation: 'other',
      collection: '',
      attributes: expect.objectContaining({ 'hoop.system_basis': 'unknown' }),
    });
  });

  it('tells systems apart by what hoop.dev sends: the command, the connection name, the secret keys', () => {
    const sql = 'SELECT * FROM orders WHERE id = 1';
    // connection_type is `database` for every SQL system: the command's client names it.
    expect(webhook(makeHoopSessionOpen({ script: sql }))).toMatchObject({
      system: 'postgres',
      attributes: expect.objectContaining({ 'hoop.system_basis': 'command' }),
    });
    const mysql = webhook(
      makeHoopSessionOpen({ script: sql, command: ['mysql', '-h$HOST', '-u$USER', '--port=$PORT', '-D$DB'] }),
    );
    expect(mysql).toMatchObject({ system: 'mysql', operation: 'fetch', collection: 'orders' });
    expect(
      webhook(makeHoopSessionOpen({ script: sql, command: ['/usr/bin/sqlcmd', '-i/dev/stdin'] })).system,
    ).toBe('mssql');
    // In-process drivers: a database connection with no command names no database. The SQL is
    // still read; the system is unknown, not a guess.
    const native = webhook(makeHoopSessionOpen({ script: 'DELETE FROM orders WHERE id = 1', command: [] }));
    expect(native).toMatchObject({ system: 'unknown', operation: 'delete', collection: 'orders' });
    expect(native.attributes['hoop.system_basis']).toBe('unknown');
    // A vector store named by the secret keys of a custom connection.
    const byEnv = webhook(
      makeHoopSessionOpen({
        connection: 'runner',
        connection_type: 'custom',
        connection_envs: ['envvar:QDRANT_API_KEY', 'envvar:QDRANT_URL'],
        command: ['bash'],
        script: 'echo hi',
      }),
    );
    expect(byEnv).toMatchObject({
      system: 'qdrant',
      attributes: expect.objectContaining({ 'hoop.system_basis': 'connection_envs' }),
    });
  });

  it('stores a session held for review as pending: not an executed write', () => {
    const review = { type: 'onetime', status: 'PENDING', owner_email: 'alice@example.com' };
    const e = webhook(makeHoopSessionOpen({ review, script: 'DELETE FROM docs' }));
    expect(e).toMatchObject({ review: true, outcome: 'pending', operation: 'delete', error_type: '' });
    expect(e.attributes['hoop.review_status']).toBe('PENDING');
    // The upstream example's PROCESSING (an approved review executing) is access.
    expect(webhook(makeHoopSessionOpen({ review: { ...review, status: 'PROCESSING' } })).outcome).toBe(
      'allowed',
    );
  });

  it('records an interactive session without script as an auth decision', () => {
    const e = webhook(makeHoopSessionOpen({ verb: 'connect', input: '', input_size: 0 }));
    expect(e).toMatchObject({ operation: 'auth', operation_raw: 'session.open:connect', query_hash: '' });
  });

  it('marks reviewed sessions, and rejected reviews as denied', () => {
    const review = { type: 'onetime', status: 'APPROVED', owner_email: 'alice@example.com' };
    expect(webhook(makeHoopSessionOpen({ review }))).toMatchObject({ review: true, outcome: 'allowed' });
    const rejected = webhook(makeHoopSessionOpen({ review: { ...review, status: 'REJECTED' } }));
    expect(rejected).toMatchObject({ review: true, outcome: 'denied', error_type: 'review_rejected' });
    expect(rejected.attributes['hoop.review_status']).toBe('REJECTED');
    expect(JSON.stringify(rejected)).not.toContain('alice');
  });

  it('falls back on the user id when the email is absent', () => {
    const { user_email: _, ...open } = makeHoopSessionOpen();
    expect(webhook(open).actor).toBe(
      tokenizer.token('actor', 'acme', 'google-oauth2|224363319008942157048', 'user'),
    );
  });

  it('rejects with the field named and the value never repeated', () => {
    const r1 = normalizeHoopWebhook(
      { ...makeHoopSessionOpen(), user_email: undefined, user_id: undefined },
      ctx,
    );
    expect(r1).toEqual({ ok: false, reason: 'user_email: one of user_email or user_id is required' });
    const r2 = normalizeHoopWebhook(
      { ...makeHoopSessionOpen(), input: 'not base64 ✗ alice@example.com' },
      ctx,
    );
    expect(r2.ok).toBe(false);
    if (!r2.ok) {
      expect(r2.reason).toBe('input: must be base64');
      expect(r2.reason).not.toContain('alice');
    }
    expect(normalizeHoopWebhook([], ctx)).toEqual({ ok: false, reason: 'event: expected object' });
  });

  it('ignores what Svix delivers that is not a session event: Teams cards, dbroles jobs, unknown types', () => {
    for (const body of [
      makeHoopTeamsReviewCard(),
      makeHoopDbRolesJobFinished(),
      { event_type: 'review.create', id: 'x' },
      { id: 'x' },
    ])
      expect(normalizeHoopWebhook(body, ctx)).toEqual({ ok: true, value: undefined });
  });
});

describe('hoop.dev session.close', () => {
  it('turns a non-zero exit code into an error; -100 (unknown) is not one', () => {
    expect(
      webhook(makeHoopSessionClose({ exit_code: 1, exit_err: 'ERROR: relation "x" does not exist' })),
    ).toMatchObject({
      operation: 'other',
      operation_raw: 'session.close',
      outcome: 'error',
      error_type: 'exit_code_1',
    });
    const unknown = webhook(makeHoopSessionClose({ exit_code: -100 }));
    expect(unknown).toMatchObject({ outcome: 'allowed', error_type: '' });
    expect(
      JSON.stringify(webhook(makeHoopSessionClose({ exit_code: 2, exit_err: 'secret text' }))),
    ).not.toContain('secret text');
  });

  it('takes actor, system and collection from the session.open it remembers', () => {
    const open = makeHoopSessionOpen();
    const opened = openedSessionOf(webhook(open));
    const r = normalizeHoopWebhook(makeHoopSessionClose({ id: open.id, exit_code: 3 }), {
      ...ctx,
      openedSession: (id) => (id === open.id ? opened : undefined),
    });
    expect(r.ok && r.value).toMatchObject({
      actor: tokenizer.token('actor', 'acme', 'alice@example.com', 'user'),
      actor_type: 'user',
      system: 'pgvector',
      collection: 'docs',
      outcome: 'error',
    });
  });

  it('accepts the upstream close as sent: only event_type, id, exit_code, exit_err (null when empty)', () => {
    const close = makeHoopSessionClose({ exit_code: -100, exit_err: null });
    expect(Object.keys(close).sort()).toEqual(['event_type', 'exit_code', 'exit_err', 'id']);
    expect(webhook(close)).toMatchObject({ operation_raw: 'session.close', outcome: 'allowed' });
  });

  it('without its session.open, the actor is the session, typed unknown', () => {
    const close = makeHoopSessionClose();
    expect(webhook(close)).toMatchObject({ actor_type: 'unknown', system: 'unknown' });
    expect(webhook(close).actor).toMatch(/^unk_k1_/);
  });
});

describe('hoop.dev API sessions', () => {
  it('maps review, guardrails, masking, AI risk and machine identities', () => {
    const s = makeHoopApiSession({
      identity_type: 'machine',
      review: { type: 'jit', status: 'APPROVED', review_groups_data: [] },
      guardrails_info: [{ rule_name: 'no-bulk-export', direction: 'input', matched_words: ['SELECT *'] }],
      metrics: { data_masking: { total_redact_count: 4, info_types: { EMAIL_ADDRESS: 4 } } },
      ai_analysis: { risk_level: 'high', action: 'block' },
    });
    const e = api(s);
    expect(e).toMatchObject({
      source: 'hoop',
      actor_type: 'service',
      actor: tokenizer.token('actor', 'acme', 'bob@example.com', 'service'),
      system: 'pgvector',
      operation: 'search',
      collection: 'docs',
      top_k: 20,
      review: true,
      blocked: true,
      masked: true,
      outcome: 'denied',
      error_type: 'guardrail',
      latency_ms: 250,
    });
    expect(e.attributes).toMatchObject({
      'hoop.ai_risk': 'high',
      'hoop.guardrail_rules': 'no-bulk-export',
      'hoop.redact_count': '4',
      'hoop.review_status': 'APPROVED',
    });
    expect(JSON.stringify(e)).not.toMatch(/bob|SELECT \*/);
  });

  it('a plain session is allowed and unflagged; its id differs from the webhook ids', () => {
    const s = makeHoopApiSession();
    const e = api(s);
    expect(e).toMatchObject({
      review: false,
      blocked: false,
      masked: false,
      outcome: 'allowed',
      actor_type: 'user',
    });
    expect(e.event_id).toBe(api({ ...s, status: 'done' }).event_id);
    const open = makeHoopSessionOpen({ id: s.id as string });
    expect(webhook(open).event_id).not.toBe(e.event_id);
  });

  it('a session waiting for review is pending, and the system comes from its subtype', () => {
    const e = api(
      makeHoopApiSession({
        status: 'open',
        review: { type: 'onetime', status: 'PENDING' },
        connection_subtype: 'mysql',
        script: { data: 'DELETE FROM orders' },
      }),
    );
    expect(e).toMatchObject({ outcome: 'pending', operation: 'delete', system: 'mysql' });
    expect(e.attributes['hoop.system_basis']).toBe('subtype');
  });

  it('a rejected review is denied; a failed exit is an error', () => {
    expect(api(makeHoopApiSession({ review: { type: 'onetime', status: 'REJECTED' } }))).toMatchObject({
      outcome: 'denied',
      error_type: 'review_rejected',
    });
    expect(api(makeHoopApiSession({ exit_code: 1 }))).toMatchObject({
      outcome: 'error',
      error_type: 'exit_code_1',
    });
  });

  it('rejects a session without start_date or user, naming the field', () => {
    const r = normalizeHoopApiSession(
      { ...makeHoopApiSession(), start_date: undefined },
      { tokenizer, tenant: 'a', now: NOW },
    );
    expect(r).toEqual({ ok: false, reason: 'start_date: is required' });
    const r2 = normalizeHoopApiSession(
      { ...makeHoopApiSession(), user: null, user_id: null },
      { tokenizer, tenant: 'a', now: NOW },
    );
    expect(r2).toEqual({ ok: false, reason: 'user: one of user or user_id is required' });
  });
});
