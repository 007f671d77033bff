// decodeBody: identity, gzip and deflate bodies, the size limit applied after decompression.
import { deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeBody, HttpError } from '../../../src/collectors/http/body.js';

const MB = 1024 * 1024;
const payload = Buffer.from('{"tenant":"acme","user":"u1"}\n'.repeat(100));

function httpStatus(fn: () => unknown): number {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HttpError);
    return (err as HttpError).status;
  }
  throw new Error('expected an HttpError');
}

describe('decodeBody', () => {
  it('returns an identity body as is', () => {
    expect(decodeBody(payload, undefined, MB)).toBe(payload);
    expect(decodeBody(payload, 'identity', MB)).toBe(payload);
    expect(decodeBody(payload, '', MB)).toBe(payload);
  });

  it('treats a missing body as empty', () => {
    expect(decodeBody(undefined, undefined, MB)).toEqual(Buffer.alloc(0));
    expect(decodeBody('a string', undefined, MB)).toEqual(Buffer.alloc(0));
  });

  it('gunzips a gzip body (encoding name case-insensitive)', () => {
    expect(decodeBody(gzipSync(payload), 'gzip', MB).equals(payload)).toBe(true);
    expect(decodeBody(gzipSync(payload), ' GZIP ', MB).equals(payload)).toBe(true);
  });

  it('inflates a deflate body', () => {
    expect(decodeBody(deflateSync(payload), 'deflate', MB).equals(payload)).toBe(true);
  });

  it('answers 415 for an unsupported encoding, naming it', () => {
    try {
      decodeBody(payload, 'br', MB);
      expect.unreachable();
    } catch (err) {
      expect((err as HttpError).status).toBe(415);
      expect((err as HttpError).message).toContain('br');
    }
    expect(httpStatus(() => decodeBody(payload, 'gzip, br', MB))).toBe(415);
  });

  it('answers 400 for a corrupt gzip body', () => {
    expect(httpStatus(() => decodeBody(Buffer.from('definitely not gzip'), 'gzip', MB))).toBe(400);
    const truncated = gzipSync(payload).subarray(0, 20);
    expect(httpStatus(() => decodeBody(truncated, 'gzip', MB))).toBe(400);
  });

  it('answers 400 for a gzip body labelled deflate', () => {
    expect(httpStatus(() => decodeBody(gzipSync(payload), 'deflate', MB))).toBe(400);
  });

  it('answers 413 for a gzip bomb over the limit, without inflating it', () => {
    const bomb = gzipSync(Buffer.alloc(50 * MB));
    expect(bomb.length).toBeLessThan(MB);
    const before = process.memoryUsage().arrayBuffers;
    expect(httpStatus(() => decodeBody(bomb, 'gzip', MB))).toBe(413);
    // Inflating all 50 MB would leave tens of MB of buffers behind until the next collection.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(20 * MB);
  });

  it('answers 413 for a deflate bomb too', () => {
    expect(httpStatus(() => decodeBody(deflateSync(Buffer.alloc(10 * MB)), 'deflate', MB))).toBe(413);
  });

  it('accepts a body that inflates to exactly the limit and rejects one byte more', () => {
    const exact = Buffer.alloc(4096, 1);
    expect(decodeBody(gzipSync(exact), 'gzip', 4096).length).toBe(4096);
    expect(httpStatus(() => decodeBody(gzipSync(Buffer.alloc(4097, 1)), 'gzip', 4096))).toBe(413);
  });
});
