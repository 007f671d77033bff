import { describe, expect, it } from 'vitest';
import { normalizeGeneric } from '../../src/collectors/generic/generic.normalizer.js';
import { createTokenizer, QUERY_TEXT_ATTRIBUTE } from '../../src/privacy/index.js';
import { makeGenericEvent } from '../helpers/factories.js';

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
