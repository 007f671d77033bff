// Per-source bearer tokens: 401 without a valid credential, 403 for another source's, rotation.
import { describe, expect, it } from 'vitest';
import { createSourceAuth, splitTokens } from '../../../src/collectors/auth.js';

const auth = createSourceAuth({
  generic: ['gen-token-new', 'gen-token-old'],
  hoop: ['hoop-token'],
  teleport: [''],
});

describe('createSourceAuth().check', () => {
  it('answers 401 without an Authorization header', () => {
    expect(auth.check(undefined, 'generic')).toEqual({
      ok: false,
      status: 401,
      reason: 'missing bearer token',
      refusal: 'missing_credential',
    });
  });

  it.each(['', 'Bearer', 'Bearer ', 'Basic Z2VuOnRva2Vu', 'gen-token-new', 'Bearer two tokens'])(
    'answers 401 for the malformed header %j',
    (header) => {
      const r = auth.check(header, 'generic');
      expect(r.ok).toBe(false);
      expect(r.ok === false && r.status).toBe(401);
    },
  );

  it('answers 401 for a wrong token, without echoing it', () => {
    const r = auth.check('Bearer not-a-real-token', 'generic');
    expect(r).toEqual({
      ok: false,
      status: 401,
      reason: 'invalid bearer token',
      refusal: 'invalid_credential',
    });
  });

  it('answers 403 for a valid token of another source', () => {
    const r = auth.check('Bearer hoop-token', 'generic');
    expect(r.ok).toBe(false);
    expect(r.ok === false && r.status).toBe(403);
    expect(r.ok === false && r.reason).toContain('generic');
    expect(r.ok === false && r.reason).not.toContain('hoop-token');
    expect(r.ok === false && r.refusal).toBe('wrong_source');
  });

  it('accepts the right token', () => {
    expect(auth.check('Bearer hoop-token', 'hoop')).toMatchObject({ ok: true, source: 'hoop' });
    const r = auth.check('Bearer hoop-token', 'hoop');
    expect(r.ok && r.caller.startsWith('hoop:') && !r.caller.includes('hoop-token')).toBe(true);
  });

  it('accepts every token of a source during rotation', () => {
    expect(auth.check('Bearer gen-token-new', 'generic')).toMatchObject({ ok: true });
    expect(auth.check('Bearer gen-token-old', 'generic')).toMatchObject({ ok: true });
  });

  it('is case-insensitive in the scheme and tolerates trailing white space', () => {
    expect(auth.check('bearer gen-token-new  ', 'generic')).toMatchObject({ ok: true });
    expect(auth.check('BEARER   gen-token-new', 'generic')).toMatchObject({ ok: true });
  });

  it('is case-sensitive in the token', () => {
    expect(auth.check('Bearer GEN-TOKEN-NEW', 'generic')).toMatchObject({ ok: false, status: 401 });
  });

  it('never accepts a source configured with only an empty token', () => {
    expect(auth.check('Bearer ', 'teleport')).toMatchObject({ ok: false, status: 401 });
    expect(auth.check('Bearer x', 'teleport')).toMatchObject({ ok: false, status: 401 });
  });

  it('answers 401 for a source with no tokens configured at all', () => {
    expect(createSourceAuth({}).check('Bearer anything', 'generic')).toMatchObject({
      ok: false,
      status: 401,
    });
  });
});

describe('splitTokens', () => {
  it('splits a comma-separated list, trimming and dropping empties', () => {
    expect(splitTokens(' a , b,,c ,')).toEqual(['a', 'b', 'c']);
  });

  it('gives no tokens for an absent or blank value', () => {
    expect(splitTokens(undefined)).toEqual([]);
    expect(splitTokens('')).toEqual([]);
    expect(splitTokens(' , ')).toEqual([]);
  });

  it('keeps a single token as is', () => {
    expect(splitTokens('tok_123')).toEqual(['tok_123']);
  });
});
