// Request bodies for the collectors: raw bytes, gunzipped when Content-Encoding says so, with the
// size limit applied after decompression (a gzip bomb gets 413, not an out-of-memory).
import { gunzipSync, inflateSync } from 'node:zlib';

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function decodeBody(body: unknown, contentEncoding: string | undefined, maxBytes: number): Buffer {
  const raw = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
  const enc = (contentEncoding ?? 'identity').trim().toLowerCase();
  if (enc === 'identity' || enc === '') return raw;
  if (enc !== 'gzip' && enc !== 'deflate')
    throw new HttpError(
      415,
      `Content-Encoding ${enc.slice(0, 32)} is not supported (gzip, deflate, identity)`,
    );
  try {
    return (enc === 'gzip' ? gunzipSync : inflateSync)(raw, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw new HttpError(413, `body exceeds ${maxBytes} bytes after decompression`);
    }
    throw new HttpError(400, `body is not valid ${enc} data`);
  }
}
