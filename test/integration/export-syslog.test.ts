// CEF over syslog to a REAL rsyslog: the test starts its own rsyslogd (imtcp on a free loopback
// port, omfile into a temp file) and checks what rsyslog parsed out of our octet-counted RFC 5424
// frames — header fields, and CEF escaping intact. TLS framing is checked against a Node TLS
// listener (rsyslog's TLS driver is a separate package).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSyslogCefSink, type ExportRecord } from '../../src/export/index.js';
import { makeEvent, makeFinding } from '../helpers/factories.js';
import { makeAction, makeIncident } from '../helpers/export-records.js';
import { makePki } from '../helpers/certs.js';
import { freePort } from '../helpers/child.js';
import { waitFor } from '../helpers/wait.js';
import { parseCef } from '../helpers/cef-parse.js';

const RSYSLOGD = ['/usr/sbin/rsyslogd', '/usr/bin/rsyslogd'].find((p) => existsSync(p));
const SEP = '\u241f'; // a separator no field contains, so fields split unambiguously

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

describe('CEF over syslog', () => {
  let rsyslog: ChildProcess | undefined;
  let out = '';
  let port = 0;
  let log = '';

  beforeAll(async () => {
    if (!RSYSLOGD)
      throw new Error('rsyslogd is not installed: run scripts/services.sh up (it installs rsyslog)');
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-rsyslog-'));
    port = await freePort();
    out = path.join(dir, 'received.log');
    const conf = path.join(dir, 'rsyslog.conf');
    writeFileSync(
      conf,
      [
        `global(workDirectory="${dir}" maxMessageSize="64k")`,
        'module(load="imtcp")',
        `template(name="fields" type="string" string="%syslogfacility%${SEP}%syslogseverity%${SEP}%hostname%${SEP}%app-name%${SEP}%msgid%${SEP}%msg%\\n")`,
        `input(type="imtcp" port="${port}" address="127.0.0.1")`,
        `action(type="omfile" file="${out}" template="fields")`,
        '',
      ].join('\n'),
    );
    rsyslog = spawn(RSYSLOGD, ['-n', '-f', conf, '-i', path.join(dir, 'rsyslogd.pid')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    rsyslog.stdout!.on('data', (d) => {
      log += d;
    });
    rsyslog.stderr!.on('data', (d) => {
      log += d;
    });
    await waitFor(() => portOpen(port), Boolean, { timeoutMs: 15_000, what: `rsyslogd on ${port} (${log})` });
  });

  afterAll(async () => {
    if (rsyslog && rsyslog.exitCode === null) {
      const exited = new Promise((r) => rsyslog!.once('exit', r));
      rsyslog.kill('SIGTERM');
      await exited;
    }
  });

  const received = () => (existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean) : []);

  it('delivers octet-counted RFC 5424 frames that rsyslog parses, CEF escaping intact', async () => {
    const hostile = makeFinding({
      title: 'Spike | pipe \\ slash',
      sentence: 'line one\nline two with a=b and \u001b[31mcolour\u001b[0m',
      collection: 'pii=yes',
      severity: 'critical',
    });
    const records: ExportRecord[] = [
      { kind: 'finding', value: hostile },
      { kind: 'incident', value: makeIncident({ severity: 'high' }) },
      { kind: 'event', value: makeEvent({ outcome: 'denied', collection: 'docs\u0007\u0000' }) },
      { kind: 'action', value: makeAction(), actor: 'usr_k1_contained' },
    ];
    const sink = createSyslogCefSink({ host: '127.0.0.1', port, hostname: 'vigil-test', facility: 10 });
    await sink.send(records.slice(0, 2));
    await sink.send(records.slice(2));
    await sink.close();

    const lines = await waitFor(received, (l) => l.length >= 4, { what: 'rsyslog output' });
    expect(lines).toHaveLength(4);
    const rows = lines.map((l) => l.split(SEP));
    // facility 10 (authpriv); severity from CEF: critical 10 → 2, high 8 → 3, denied 4 → 5, action 2 → 6.
    expect(rows.map((r) => [r[0], r[1], r[2], r[3], r[4]])).toEqual([
      ['10', '2', 'vigil-test', 'vigil', 'finding'],
      ['10', '3', 'vigil-test', 'vigil', 'incident'],
      ['10', '5', 'vigil-test', 'vigil', 'event'],
      ['10', '6', 'vigil-test', 'vigil', 'action'],
    ]);
    const messages = rows.map((r) => r.slice(5).join(SEP).trimStart());
    // Nothing for rsyslog to escape: no control character reached it (it would write #0NN).
    for (const m of messages) {
      expect(m).not.toMatch(/#0\d\d/);
      expect(m.startsWith('CEF:0|vigil|vigil|')).toBe(true);
    }
    const finding = parseCef(messages[0]!);
    expect(finding.header[5]).toBe('Spike | pipe \\ slash');
    expect(finding.header[6]).toBe('10');
    expect(finding.ext.msg).toBe('line one\nline two with a=b and colour');
    expect(finding.ext.cs2).toBe('pii=yes');
    expect(messages[0]).toContain('msg=line one\\nline two with a\\=b');
    expect(parseCef(messages[2]!).ext.cs2).toBe('docs');
    expect(parseCef(messages[3]!).ext.suid).toBe('usr_k1_contained');
  });

  it('reconnects after the receiver went away and re-sends the failed batch', async () => {
    const before = received().length;
    const sink = createSyslogCefSink({
      host: '127.0.0.1',
      port: await freePort(),
      hostname: 'h',
      timeoutMs: 2_000,
    });
    await expect(sink.send([{ kind: 'finding', value: makeFinding() }])).rejects.toMatchObject({
      name: 'RetriableError',
    });
    const good = createSyslogCefSink({ host: '127.0.0.1', port, hostname: 'h' });
    await good.send([{ kind: 'finding', value: makeFinding({ title: 'after reconnect' }) }]);
    await good.close();
    await waitFor(received, (l) => l.length === before + 1, { what: 'one more line' });
    expect(received().at(-1)).toContain('after reconnect');
  });

  it('speaks TLS when asked (RFC 5425 framing over a verified connection)', async () => {
    const pki = makePki();
    const frames: Buffer[] = [];
    const server = createTlsServer(
      { cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey) },
      (socket) => socket.on('data', (d) => frames.push(d)),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const tlsPort = (server.address() as { port: number }).port;
    const sink = createSyslogCefSink({
      host: '127.0.0.1',
      port: tlsPort,
      hostname: 'h',
      tls: { ca: pki.ca },
    });
    await sink.send([{ kind: 'finding', value: makeFinding({ title: 'over tls' }) }]);
    await sink.close();
    const text = await waitFor(
      () => Buffer.concat(frames).toString('utf8'),
      (t) => t.includes('over tls'),
      { what: 'TLS frame' },
    );
    const [len, ...rest] = text.split(' ');
    expect(Number(len)).toBe(Buffer.byteLength(rest.join(' ')));
    expect(rest.join(' ')).toMatch(/^<\d+>1 /);

    // A server certificate from an unknown CA is refused, not silently accepted.
    const untrusted = createSyslogCefSink({
      host: '127.0.0.1',
      port: tlsPort,
      hostname: 'h',
      tls: {},
      timeoutMs: 2_000,
    });
    await expect(untrusted.send([{ kind: 'finding', value: makeFinding() }])).rejects.toThrow(/certificate/);
    await new Promise((r) => server.close(r));
  });
});
