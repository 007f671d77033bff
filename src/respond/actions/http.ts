// HTTP for action adapters: one request with a timeout, and the mapping from an answer to the typed
// errors the queue understands — 408, 429, 5xx and network failures are retried, other 4xx are not.
import { PermanentError, RetriableError } from '../../model/index.js';

export interface HttpCall {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly url: string;
  readonly headers?: Record<string, string>;
  /** Sent as JSON (objects) or as is (strings, with their own content type in headers). */
  readonly body?: unknown;
  readonly timeoutMs: number;
  /** Names the call in errors (e.g. "weaviate deactivate"). */
  readonly what: string;
}

export interface HttpReply {
  readonly status: number;
  /** Parsed JSON, or undefined when the body is not JSON. */
  readonly json: unknown;
  readonly text: string;
}

export type HttpError = (RetriableError | PermanentError) & { status?: number };

export async function http(call: HttpCall): Promise<HttpReply> {
  const headers: Record<string, string> = { accept: 'application/json', ...call.headers };
  let body: string | undefined;
  if (call.body !== undefined) {
    body = typeof call.body === 'string' ? call.body : JSON.stringify(call.body);
    headers['content-type'] ??= 'application/json';
  }
  let res: Response;
  try {
    res = await fetch(call.url, {
      method: call.method,
      headers,
      body,
      signal: AbortSignal.timeout(call.timeoutMs),
      redirect: 'error',
    });
  } catch (err) {
    const e = err as Error;
    const why = e.name === 'TimeoutError' ? `timed out after ${call.timeoutMs} ms` : causeOf(e);
    throw new RetriableError(`${call.what}: unreachable: ${why}`);
  }
  const text = await res.text().catch(() => '');
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

function causeOf(e: Error): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? e.message;
}

/** 408, 429 and 5xx may pass; every other 4xx will not change by retrying. */
export function isRetriableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

export function statusError(what: string, reply: Pick<HttpReply, 'status' | 'text'>): HttpError {
  const excerpt = reply.text.replace(/\s+/g, ' ').trim().slice(0, 200);
  const message = `${what}: answered ${reply.status}${excerpt ? `: ${excerpt}` : ''}`;
  const err: HttpError = isRetriableStatus(reply.status)
    ? new RetriableError(message)
    : new PermanentError(message);
  err.status = reply.status;
  return err;
}

/** Sends the call and returns the reply when its status is accepted, else throws the typed error. */
export async function expectStatus(
  call: HttpCall,
  accept: (status: number) => boolean = (s) => s >= 200 && s < 300,
): Promise<HttpReply> {
  const reply = await http(call);
  if (!accept(reply.status)) throw statusError(call.what, reply);
  return reply;
}

export function statusOf(err: unknown): number | undefined {
  const s = (err as { status?: unknown } | null)?.status;
  return typeof s === 'number' ? s : undefined;
}

/** Joins a base URL and a path, keeping the base's own path (e.g. behind a reverse proxy). */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

export const seg = encodeURIComponent;
