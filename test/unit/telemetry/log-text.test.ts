// Log lines on a terminal (src/telemetry/log-text.ts): readable, one line each, no control
// characters from logged values; colour only when asked.
import { describe, expect, it } from 'vitest';
import { formatLogLine } from '../../../src/telemetry/log-text.js';
import { testTime } from '../../helpers/clock.js';

describe('a log line on a terminal', () => {
  const time = testTime(0, 9, 30, 5, 120);
  const json = (o: Record<string, unknown>) =>
    `${JSON.stringify({ level: 40, time, pid: 7, name: 'vigil', ...o })}\n`;

  it('reads time, level, message, then the fields', () => {
    expect(formatLogLine(json({ msg: 'key created', dir: '/d/keys', n: 3 }), false)).toBe(
      '09:30:05.120 WARN  key created dir=/d/keys n=3\n',
    );
  });

  it('colours the level only when asked', () => {
    expect(formatLogLine(json({ msg: 'm' }), true)).toContain('\u001b[33mWARN \u001b[0m');
    expect(formatLogLine(json({ msg: 'm' }), false)).not.toContain('\u001b');
  });

  it('keeps a logged value on one line without escape sequences', () => {
    const out = formatLogLine(json({ msg: 'bad\nline', collection: 'a\u001b[2Jb\r\nforged' }), false);
    expect(out.split('\n')).toHaveLength(2);
    expect(out).not.toContain('\u001b');
  });

  it('shows an error by type and message, and passes a non-JSON line through', () => {
    expect(
      formatLogLine(json({ msg: 'failed', err: { type: 'Error', message: 'boom', stack: 'x' } }), false),
    ).toContain('err=Error: boom');
    expect(formatLogLine('plain', false)).toBe('plain\n');
  });
});
