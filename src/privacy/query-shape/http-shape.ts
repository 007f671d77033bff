// The redacted shape of HTTP requests written as text (a request line, headers, a body; several
// in a row, as in a hoop.dev session or an OpenSearch console): the method, the shape of the
// target, `?` for each header, and the shape of a JSON body (any other body is one `?`).
import { jsonShape } from './json-shape.js';
import { urlShape } from './url-shape.js';

const REQUEST_LINE =
  /^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)[ \t]+(\S+)(?:[ \t]+HTTP\/\d(?:\.\d)?)?[ \t]*$/i;
/** A method first, after blank lines and `#` comments: the cheap test before reading every line. */
const STARTS_WITH_REQUEST = /^\s*(?:#[^\n]*\n\s*)*(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)[ \t]/i;
const HEADER = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+:/;

/** The shape of `text` when its first line is an HTTP request line, else undefined. */
export function httpShape(text: string): string | undefined {
  if (!STARTS_WITH_REQUEST.test(text)) return undefined;
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  const out: string[] = [];
  let body: string[] | undefined;
  let headers = false;
  const endBody = () => {
    const b = body?.join('\n').trim();
    if (b) out.push(jsonShape(b) ?? '?');
    body = undefined;
  };
  for (const line of lines) {
    const request = REQUEST_LINE.exec(line);
    if (request) {
      endBody();
      out.push(request[1]!.toLowerCase(), urlShape(request[2]!));
      headers = true;
    } else if (out.length === 0) {
      // Before the first request only blank lines and `#` comments (.http files) may stand.
      if (line.trim() !== '' && !line.trimStart().startsWith('#')) return undefined;
    } else if (headers && HEADER.test(line)) {
      out.push('?');
    } else {
      headers = false;
      body ??= [];
      body.push(line);
    }
  }
  endBody();
  return out.length > 0 ? out.join(' ') : undefined;
}
