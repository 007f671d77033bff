// Reads CEF lines back the way a SIEM parses them (for asserting that escaping round-trips).

/** A reader of CEF lines the way a SIEM parses them: unescaped `|` split the header, ` key=` the extension. */
export function parseCef(line: string): { header: string[]; ext: Record<string, string> } {
  const header: string[] = [];
  let i = 0;
  let cur = '';
  while (header.length < 7) {
    const c = line[i++];
    if (c === undefined) throw new Error(`short header in ${line}`);
    if (c === '\\') cur += line[i++];
    else if (c === '|') {
      header.push(cur);
      cur = '';
    } else cur += c;
  }
  const rest = line.slice(i);
  const ext: Record<string, string> = {};
  // Keys start after a space (or at the start) and end at an unescaped `=`.
  const keyAt = /(?:^| )([A-Za-z0-9_]+)=/g;
  const starts: Array<{ key: string; from: number; valueFrom: number }> = [];
  for (const m of rest.matchAll(keyAt)) {
    // An `=` preceded by a backslash is a value character, not a key separator.
    if (rest[m.index + m[0].length - 2] === '\\') continue;
    starts.push({ key: m[1]!, from: m.index, valueFrom: m.index + m[0].length });
  }
  starts.forEach((s, k) => {
    const raw = rest.slice(s.valueFrom, k + 1 < starts.length ? starts[k + 1]!.from : rest.length);
    ext[s.key] = raw.replace(/\\(.)/g, (_, ch: string) => (ch === 'n' ? '\n' : ch === 'r' ? '\r' : ch));
  });
  return { header, ext };
}
