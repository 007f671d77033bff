// Log lines for a person at a terminal: pino's JSON line (already redacted) as `time LEVEL message
// key=value …`. Only for stderr on a terminal (createLogger decides); a pipe, a file or a log
// shipper keeps the JSON. Values are stripped of control characters so a logged string cannot move
// the cursor or forge a line.

const LEVELS: Record<number, [string, string]> = {
  10: ['TRACE', '2'],
  20: ['DEBUG', '2'],
  30: ['INFO ', '36'],
  40: ['WARN ', '33'],
  50: ['ERROR', '31'],
  60: ['FATAL', '1;31'],
};

/** What pino puts on every line, shown in the line's head or not at all. */
const HEAD_KEYS = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg']);

const printable = (text: string) => text.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ');

function valueText(value: unknown): string {
  if (typeof value === 'string') return printable(value);
  if (value && typeof value === 'object' && 'message' in value && 'type' in value)
    return printable(
      `${String((value as { type: unknown }).type)}: ${String((value as { message: unknown }).message)}`,
    );
  return printable(JSON.stringify(value) ?? String(value));
}

/** One JSON log line as text (with its newline); a line that is not pino's JSON is passed on as it is. */
export function formatLogLine(line: string, colour: boolean): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const [label, sgr] = LEVELS[Number(entry.level)] ?? ['LOG  ', '0'];
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString().slice(11, 23) : '';
  const fields = Object.entries(entry)
    .filter(([k]) => !HEAD_KEYS.has(k))
    .map(([k, v]) => `${printable(k)}=${valueText(v)}`);
  const level = colour ? `\u001b[${sgr}m${label}\u001b[0m` : label;
  const msg = typeof entry.msg === 'string' ? printable(entry.msg) : '';
  return `${[time, level, msg, ...fields].filter(Boolean).join(' ')}\n`;
}
