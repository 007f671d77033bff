// CEF: header and extension escaping, severity range, and that no hostile value can inject a
// field, a line, or a terminal escape sequence.
import { describe, expect, it } from 'vitest';
import { cleanText, escapeCefHeader, escapeCefValue, toCef } from '../../../src/export/index.js';
import { makeEvent, makeFinding } from '../../helpers/factories.js';
import { parseCef } from '../../helpers/cef-parse.js';
import { makeAction, makeIncident, oneOfEach } from '../../helpers/export-records.js';

describe('CEF escaping', () => {
  it('escapes backslash and pipe in header fields, and flattens line breaks', () => {
    expect(escapeCefHeader('a|b\\c')).toBe('a\\|b\\\\c');
    expect(escapeCefHeader('two\nlines\r\nhere')).toBe('two lines here');
    expect(escapeCefHeader('=')).toBe('=');
  });

  it('escapes backslash, equals and line breaks in extension values, not pipes', () => {
    expect(escapeCefValue('a=b')).toBe('a\\=b');
    expect(escapeCefValue('c:\\dir')).toBe('c:\\\\dir');
    expect(escapeCefValue('l1\nl2\r\nl3\rl4')).toBe('l1\\nl2\\nl3\\rl4');
    expect(escapeCefValue('x|y')).toBe('x|y');
    // The order matters: an escaped `=` must not have its backslash escaped again.
    expect(escapeCefValue('\\=')).toBe('\\\\\\=');
  });

  it('strips ANSI sequences, C0/C1 controls and bidi overrides before escaping', () => {
    const hostile = 'ok\u001b[31mred\u001b[0m\u001b]0;title\u0007\u009b2J\u0000\u0008\u007f\u202egnp.exe';
    expect(cleanText(hostile)).toBe('okredgnp.exe');
    expect(escapeCefValue(hostile)).toBe('okredgnp.exe');
    expect(escapeCefHeader(hostile)).toBe('okredgnp.exe');
  });
});

describe('toCef', () => {
  it('writes the seven header fields and a parseable extension for every kind', () => {
    for (const r of oneOfEach()) {
      const line = toCef(r, { productVersion: '1.2.3' });
      expect(line.startsWith('CEF:0|vigil|vigil|1.2.3|')).toBe(true);
      expect(line).not.toMatch(/[\r\n]/);
      const { header } = parseCef(line);
      expect(header).toHaveLength(7);
      const severity = Number(header[6]);
      expect(Number.isInteger(severity) && severity >= 0 && severity <= 10).toBe(true);
    }
  });

  it('maps severities onto 0–10', () => {
    const sev = (severity: 'low' | 'medium' | 'high' | 'critical') =>
      parseCef(toCef({ kind: 'finding', value: makeFinding({ severity }) })).header[6];
    expect([sev('low'), sev('medium'), sev('high'), sev('critical')]).toEqual(['3', '5', '8', '10']);
  });

  it('round-trips hostile values: delimiters stay values, injected fields and lines do not appear', () => {
    const f = makeFinding({
      title: 'Spike | with pipes \\ and backslash',
      sentence: 'first line\nsuser=admin act=delete\r\nmsg=forged cs1=x',
      collection: 'a=b\\c',
      detector: 'volume|spike',
    });
    const line = toCef({ kind: 'finding', value: f });
    const { header, ext } = parseCef(line);
    expect(header[4]).toBe('vigil:finding:volume|spike');
    expect(header[5]).toBe('Spike | with pipes \\ and backslash');
    // CRLF is one line break: it comes back as `\n`.
    expect(ext.msg).toBe('first line\nsuser=admin act=delete\nmsg=forged cs1=x');
    expect(ext.cs2).toBe('a=b\\c');
    expect(ext.suser).toBeUndefined();
    expect(ext.act).toBeUndefined();
    expect(ext.cs1).toBe('t-test');
  });

  it('lets no escape sequence through to a terminal', () => {
    const line = toCef({
      kind: 'event',
      value: makeEvent({
        collection: '\u001b[2J\u001b[Hdocs',
        client: 'ua\u001b]8;;http://x\u001b\\link\u001b]8;;\u001b\\',
      }),
    });
    const controls = [...line].filter(
      (c) => c.charCodeAt(0) < 0x20 || (c.charCodeAt(0) >= 0x7f && c.charCodeAt(0) <= 0x9f),
    );
    expect(controls).toEqual([]);
    const { ext } = parseCef(line);
    expect(ext.cs2).toBe('docs');
    expect(ext.requestClientApplication).toBe('ualink');
  });

  it('carries the identity token, the record id and the tenant', () => {
    const a = makeAction({ kind: 'revoke', outcome: 'failed', error: 'gateway said no' });
    const { header, ext } = parseCef(toCef({ kind: 'action', value: a, actor: 'usr_k1_zz' }));
    expect(header.slice(4)).toEqual(['vigil:action:revoke', 'revoke failed', '6']);
    expect(ext).toMatchObject({
      suid: 'usr_k1_zz',
      externalId: a.action_id,
      msg: 'gateway said no',
      cs1: 't-test',
    });
    const i = makeIncident();
    expect(parseCef(toCef({ kind: 'incident', value: i })).ext.externalId).toBe(i.incident_id);
  });
});
