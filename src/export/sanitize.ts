// Values leave vigil for SIEM consoles and terminals: no escape sequence or control character in
// a token, title or error text may reach them (an ESC [ … sequence in a collection name could
// rewrite an analyst's terminal; a bidi override could disguise a value).

// CSI (ESC [ … final), OSC (ESC ] … BEL or ESC \), other two-byte ESC sequences, and their C1
// single-byte forms (0x9B CSI, 0x9D OSC).
const ANSI_SEQUENCE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  /(?:\u001b\[|\u009b)[0-?]*[ -/]*[@-~]|(?:\u001b\]|\u009d)[^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?|\u001b[@-Z\\-_]/g;
// C0 controls except TAB/LF/CR, DEL, C1 controls, and Unicode bidi / invisible direction marks.
const CONTROL =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Removes ANSI escape sequences and control characters; keeps line breaks (callers escape them). */
export function cleanText(value: string): string {
  return value.replace(ANSI_SEQUENCE, '').replace(CONTROL, '').replace(/\t/g, ' ');
}

/** `cleanText` applied to every string (keys included) of a JSON-like value. */
export function cleanDeep<T>(value: T): T {
  if (typeof value === 'string') return cleanText(value) as T;
  if (Array.isArray(value)) return value.map((v) => cleanDeep(v)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[cleanText(k)] = cleanDeep(v);
    return out as T;
  }
  return value;
}
