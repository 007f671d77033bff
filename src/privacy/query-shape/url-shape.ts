// The redacted shape of a URL or request target, read by the WHATWG URL parser: the scheme when it
// is a known one, never the user, password, host or port, the path's segments that are REST API
// vocabulary, and the names of query parameters that are (their values never).
import { REST_WORDS } from './vocabulary.js';

const SCHEMES = new Set(['http', 'https', 'ws', 'wss', 'grpc', 'grpcs']);

/** Whether `word` is written as an absolute URL (`scheme://…`). */
export function isAbsoluteUrl(word: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]{0,15}:\/\//.test(word);
}

/** The shape of an absolute URL or of an origin-relative target (`/collections/x?limit=5`). */
export function urlShape(target: string): string {
  const absolute = isAbsoluteUrl(target);
  if (!absolute && !target.startsWith('/')) return '?';
  let url: URL;
  try {
    url = new URL(target, 'http://target.invalid');
  } catch {
    return '?';
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  let out = absolute ? `${SCHEMES.has(scheme) ? scheme : '?'}://?` : '';
  for (const segment of url.pathname.split('/').slice(1)) out += `/${pathWord(segment)}`;
  const names = [...url.searchParams.keys()].map((k) => `${restWord(k)}=?`);
  if (names.length > 0) out += `?${names.join('&')}`;
  return out || '/';
}

function pathWord(segment: string): string {
  if (segment === '') return '';
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    return '?';
  }
  return restWord(decoded);
}

function restWord(word: string): string {
  const w = word.toLowerCase();
  return REST_WORDS.has(w) ? w : '?';
}
