// Query text redaction: only the normalized shape is hashed, literals never survive.
import { describe, expect, it } from 'vitest';
import { normalizeQueryText, queryHash } from '../../src/privacy/query-text.js';

describe('normalizeQueryText', () => {
  it('replaces string literals, numbers and vectors by ?', () => {
    expect(normalizeQueryText(`SELECT * FROM docs WHERE owner = 'alice@example.com' AND n > 42`)).toBe(
      'select * from docs where owner = ? and n > ?',
    );
    expect(normalizeQueryText('search "secret project" top 10')).toBe('search ? top ?');
    expect(normalizeQueryText('ORDER BY embedding <-> [0.1, -2.5e3, 3] LIMIT 5')).toBe(
      'order by embedding <-> ? limit ?',
    );
  });

  it('handles escaped and doubled quotes inside a string literal', () => {
    expect(normalizeQueryText(`WHERE a = 'it''s' AND b = 'x\\'y'`)).toBe('where a = ? and b = ?');
  });

  it('folds case and white space', () => {
    expect(normalizeQueryText('  SELECT\n\t*   FROM   Docs  ')).toBe('select * from docs');
  });

  it('does not leave any part of a literal behind', () => {
    const out = normalizeQueryText(`WHERE email = 'alice@example.com' AND id = 123456789`);
    expect(out).not.toContain('alice');
    expect(out).not.toContain('123456789');
  });
});

describe('queryHash', () => {
  it('hashes two queries of the same shape with different literals the same', () => {
    const a = queryHash(`SELECT * FROM docs WHERE owner = 'alice' LIMIT 10`);
    const b = queryHash(`select *   from DOCS where owner = 'bob' limit 500`);
    expect(a).toBe(b);
    expect(a).toMatch(/^[0-9a-f]{16}$/);
  });

  it('hashes queries of different shapes differently', () => {
    expect(queryHash(`SELECT * FROM docs WHERE owner = 'alice'`)).not.toBe(
      queryHash(`SELECT * FROM mail WHERE owner = 'alice'`),
    );
  });

  it('returns the empty string for an empty or absent query', () => {
    expect(queryHash('')).toBe('');
    expect(queryHash(undefined)).toBe('');
  });
});
