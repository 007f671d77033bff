// Syslog framing for CEF over TCP: RFC 5424 messages, RFC 6587 octet counting ("LEN SP MSG"), so a
// receiver never has to guess where a message ends. Pure.
import { cleanText } from './sanitize.js';

export interface Rfc5424Fields {
  /** Facility code 0–23. @defaultValue 10 (authpriv: security messages) */
  readonly facility?: number;
  /** Severity 0–7. */
  readonly severity: number;
  readonly time: number;
  readonly hostname: string;
  /** @defaultValue 'vigil' */
  readonly appName?: string;
  readonly procId?: string;
  readonly msgId?: string;
}

/** A header field: printable US-ASCII without spaces, bounded, `-` when empty (RFC 5424 §6.2). */
function headerField(value: string | undefined, max: number): string {
  const v = cleanText(value ?? '')
    .replace(/[^\x21-\x7e]/g, '')
    .slice(0, max);
  return v === '' ? '-' : v;
}

/** One RFC 5424 message with no structured data; `msg` is sent as is (UTF-8, no BOM). */
export function rfc5424(msg: string, f: Rfc5424Fields): string {
  const facility = Math.max(0, Math.min(23, Math.trunc(f.facility ?? 10)));
  const severity = Math.max(0, Math.min(7, Math.trunc(f.severity)));
  return [
    `<${facility * 8 + severity}>1`,
    new Date(f.time).toISOString(),
    headerField(f.hostname, 255),
    headerField(f.appName ?? 'vigil', 48),
    headerField(f.procId, 128),
    headerField(f.msgId, 32),
    '-',
    msg,
  ].join(' ');
}

/** RFC 6587 octet-counting frame: the message's length in bytes, a space, the message. */
export function octetFrame(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}

/** Syslog severity for a CEF severity 0–10 (10 → critical … ≤ 2 → informational). */
export function syslogSeverity(cefSeverity: number): number {
  if (cefSeverity >= 10) return 2;
  if (cefSeverity >= 8) return 3;
  if (cefSeverity >= 5) return 4;
  if (cefSeverity >= 3) return 5;
  return 6;
}
