// Request bodies for the collectors: raw bytes, gunzipped when Content-Encoding says so, with the
// size limit applied after decompression (a gzip bomb gets 413, not an out-of-memory). Servers use
// `decodeBodyAsync`: zlib then works on its thread pool, not on the event loop (16 MiB of gunzip
// is tens of milliseconds every other request would wait).
import { promisify } from 'node:util';
import { gunzip, gunzipSync, inflate, inflateSync, type ZlibOptions } from 'node:zlib';

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type Encoding = 'identity' | 'gzip' | 'deflate';

function encodingOf(contentEncoding: string | undefined): Encoding {
  const enc = (contentEncoding ?? 'identity').trim().toLowerCase();
  if (enc === 'identity' || enc === '') return 'identity';
  if (enc !== 'gzip' && enc !== 'deflate')
    throw new HttpError(
      415,
      `Content-Encoding ${enc.slice(0, 32)} is not supported (gzip, deflate, identity)`,
    );
  return enc;
}

function decompressionError(err: unknown, enc: Encoding, maxBytes: number): HttpError {
  if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
    return new HttpError(413, `body exceeds ${maxBytes} bytes after decompression`);
  }
  return new HttpError(400, `body is not valid ${enc} data`);
}

export function decodeBody(body: unknown, contentEncoding: string | undefined, maxBytes: number): Buffer {
  const raw = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
  const enc = encodingOf(contentEncoding);
  if (enc === 'identity') return raw;
  try {
    return (enc === 'gzip' ? gunzipSync : inflateSync)(raw, { maxOutputLength: maxBytes });
  } catch (err) {
    throw decompressionError(err, enc, maxBytes);
  }
}

const gunzipAsync = promisify<Buffer, ZlibOptions, Buffer>(gunzip);
const inflateAsync = promisify<Buffer, ZlibOptions, Buffer>(inflate);

/** `decodeBody` with the decompression off the event loop. */
export async function decodeBodyAsync(
  body: unknown,
  contentEncoding: string | undefined,
  maxBytes: number,
): Promise<Buffer> {
  const raw = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
  const enc = encodingOf(contentEncoding);
  if (enc === 'identity') return raw;
  try {
    return await (enc === 'gzip' ? gunzipAsync : inflateAsync)(raw, { maxOutputLength: maxBytes });
  } catch (err) {
    throw decompressionError(err, enc, maxBytes);
  }
}
