// Query text at the edge of every collector (generic events, hoop.dev webhooks and API sessions,
// Teleport db_query, OTLP spans): one redaction for all, nothing of a literal, comment or
// argument value in the event, and `off` keeps nothing but the hash.
import { describe, expect, it } from 'vitest';
import { normalizeGeneric } from '../../../src/collectors/generic/generic.normalizer.js';
import {
  normalizeHoopApiSession,
  normalizeHoopWebhook,
} from '../../../src/collectors/hoop/hoop.normalizer.js';
import type { OtlpSpan } from '../../../src/collectors/otlp/otlp.decoder.js';
import { mapSpan } from '../../../src/collectors/otlp/span.mapper.js';
import { normalizeTeleport } from '../../../src/collectors/teleport/teleport.normalizer.js';
import type { AccessEvent } from '../../../src/model/index.js';
import {
  createTokenizer,
  QUERY_TEXT_ATTRIBUTE,
  type QueryTextMode,
  queryHash,
} from '../../../src/privacy/index.js';
import { makeGenericEvent } from '../../helpers/factories.js';
import {
  makeHoopApiSession,
  makeHoopSessionOpen,
  makeTeleportQuery,
} from '../../helpers/gateway-fixtures.js';

const key = { version: 1, secret: Buffer.alloc(32, 5) };
const query =
  "SELECT * FROM customer_pii WHERE email = 'dana@acme.example' ORDER BY embedding <-> '[0.1,0.2]' LIMIT 5";

describe('query text at the edge', () => {
  it('keeps only the hash of the shape by default', () => {
    const r = normalizeGeneric(makeGenericEvent({ query }), 'x', {
      tokenizer: createTokenizer(key),
      now: Date.now(),
    });
    expect(r.ok && r.value.query_hash).toMatch(/^[0-9a-f]{16}$/);
    expect(r.ok && r.value.attributes[QUERY_TEXT_ATTRIBUTE]).toBeUndefined();
  });

  it('with redacted, also keeps the text with every literal stripped', () => {
    const r = normalizeGeneric(makeGenericEvent({ query }), 'x', {
      tokenizer: createTokenizer(key, { queryText: 'redacted' }),
      now: Date.now(),
    });
    const text = r.ok ? r.value.attributes[QUERY_TEXT_ATTRIBUTE]! : '';
    expect(text).toBe('select * from customer_pii where email = ? order by embedding <-> ? limit ?');
    expect(text).not.toContain('dana');
  });
});

/** The texts of issue 13 §6, and what their redacted shape is. */
const SQL = 'SELECT id FROM docs WHERE note = $$bob-secret$$ LIMIT 5 -- ticket for alice@example.com';
const SQL_SHAPE = 'select id from docs where note = ? limit ?';
const CURL =
  'curl -X POST \'http://qdrant:6333/collections/docs/points/search?api_key=sk_live_4eC39HqLyjWDarjtT1zdp7dc\' -H api-key:sk_live_4eC39HqLyjWDarjtT1zdp7dc -d \'{"vector":[0.1],"limit":5,"filter":{"must":[{"key":"owner","match":{"value":"alice@example.com"}}]}}\'';
const CURL_SHAPE =
  'curl -x post http://?/collections/?/points/search??=? -h ? -d {vector:?,limit:?,filter:{must:[{key:?,match:{value:?}}]}}';
const SECRETS = /alice|bob-secret|sk_live|4ec39/i;

type Path = (text: string, mode: QueryTextMode) => AccessEvent;

const PATHS: Record<string, Path> = {
  generic: (text, mode) => {
    const r = normalizeGeneric(makeGenericEvent({ query: text }), 'x', {
      tokenizer: createTokenizer(key, { queryText: mode }),
      now: Date.now(),
    });
    if (!r.ok) throw new Error(r.reason);
    return r.value;
  },
  'hoop webhook': (text, mode) => {
    const r = normalizeHoopWebhook(makeHoopSessionOpen({ script: text }), {
      tokenizer: createTokenizer(key, { queryText: mode }),
      tenant: 'acme',
      now: Date.now(),
    });
    if (!r.ok || !r.value) throw new Error('not an event');
    return r.value;
  },
  'hoop API session': (text, mode) => {
    const r = normalizeHoopApiSession(makeHoopApiSession({ script: { data: text } }), {
      tokenizer: createTokenizer(key, { queryText: mode }),
      tenant: 'acme',
      now: Date.now(),
    });
    if (!r.ok) throw new Error(r.reason);
    return r.value;
  },
  'Teleport db_query': (text, mode) => {
    const r = normalizeTeleport(makeTeleportQuery({ db_query: text }), {
      tokenizer: createTokenizer(key, { queryText: mode }),
      tenant: 'acme',
      now: Date.now(),
    });
    if (r.kind !== 'event') throw new Error(r.kind);
    return r.event;
  },
  'OTLP span': (text, mode) => {
    const start = BigInt(Date.now() - 1000) * 1_000_000n;
    const span: OtlpSpan = {
      traceId: '5b8efff798038103d269b633813fc60c',
      spanId: 'eee19b7ec3c1b174',
      name: 'pg.query:SELECT rag',
      kind: 3,
      startTimeUnixNano: start,
      endTimeUnixNano: start + 2_000_000n,
      attributes: new Map([
        ['db.system.name', 'postgresql'],
        ['db.namespace', 'rag'],
        ['db.query.text', text],
      ]),
      statusCode: 0,
      statusMessage: '',
      scope: '',
    };
    const m = mapSpan(span, new Map([['service.name', 'rag-api']]), {
      tokenizer: createTokenizer(key, { queryText: mode }),
      now: Date.now(),
    });
    if (m.kind !== 'event') throw new Error(m.kind);
    return m.event;
  },
};

describe.each(Object.entries(PATHS))('%s', (_, path) => {
  it('redacted keeps the shape of SQL and of a curl command, never a secret', () => {
    for (const [text, shape] of [
      [SQL, SQL_SHAPE],
      [CURL, CURL_SHAPE],
    ] as const) {
      const e = path(text, 'redacted');
      expect(e.attributes[QUERY_TEXT_ATTRIBUTE]).toBe(shape);
      expect(e.query_hash).toBe(queryHash(text));
      expect(JSON.stringify(e)).not.toMatch(SECRETS);
    }
  });

  it('redacted keeps nothing of a text it cannot read; off keeps only the hash', () => {
    const open = path("SELECT * FROM docs WHERE owner = 'alice@example.com", 'redacted');
    expect(open.attributes[QUERY_TEXT_ATTRIBUTE]).toBeUndefined();
    expect(open.query_hash).toMatch(/^[0-9a-f]{16}$/);
    const off = path(SQL, 'off');
    expect(off.attributes[QUERY_TEXT_ATTRIBUTE]).toBeUndefined();
    expect(off.query_hash).toBe(queryHash(SQL));
    expect(JSON.stringify(off)).not.toMatch(SECRETS);
  });
});
