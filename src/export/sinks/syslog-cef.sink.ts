// CEF over syslog: RFC 5424 messages in RFC 6587 octet-counted frames over TCP, optionally TLS
// (RFC 5425). Syslog has no application acknowledgement: a batch counts as delivered once the
// socket flushed it; a broken connection fails the batch, which is then re-sent on a new one
// (at-least-once — the receiver may see a message twice after a reconnect).
import { hostname as osHostname } from 'node:os';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { cefSeverity, toCef } from '../cef.mapper.js';
import { type ExportRecord, recordTime } from '../record.js';
import { DELIVERED, type ExportSink, RetryLaterError, type SendResult } from '../sink.js';
import { octetFrame, rfc5424, syslogSeverity } from '../syslog.js';

export interface SyslogCefSinkOptions {
  readonly host: string;
  readonly port: number;
  /** TLS options (`ca`, `servername`, client `cert`/`key`); plain TCP when absent. */
  readonly tls?: ConnectionOptions;
  /** @defaultValue 10 (authpriv) */
  readonly facility?: number;
  /** HOSTNAME of the messages. @defaultValue the machine's host name */
  readonly hostname?: string;
  /** @defaultValue 'syslog' */
  readonly name?: string;
  /** @defaultValue 10000 */
  readonly timeoutMs?: number;
}

/** The frames a batch is sent as (exported for tests and for the CLI's syslog format). */
export function syslogFrames(
  records: readonly ExportRecord[],
  o: { facility?: number; hostname: string },
): Buffer {
  return Buffer.concat(
    records.map((r) =>
      octetFrame(
        rfc5424(toCef(r), {
          facility: o.facility,
          severity: syslogSeverity(cefSeverity(r)),
          time: recordTime(r),
          hostname: o.hostname,
          msgId: r.kind,
        }),
      ),
    ),
  );
}

export function createSyslogCefSink(opts: SyslogCefSinkOptions): ExportSink {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const host = opts.hostname ?? osHostname();
  let socket: Socket | undefined;

  function open(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const s = opts.tls
        ? tlsConnect({
            host: opts.host,
            port: opts.port,
            // SNI carries host names only (RFC 6066).
            ...(isIP(opts.host) ? {} : { servername: opts.host }),
            ...opts.tls,
          })
        : netConnect({ host: opts.host, port: opts.port });
      const timer = setTimeout(
        () => s.destroy(new Error(`connect timed out after ${timeoutMs} ms`)),
        timeoutMs,
      );
      const ready = opts.tls ? 'secureConnect' : 'connect';
      s.once(ready, () => {
        clearTimeout(timer);
        s.setKeepAlive(true);
        resolve(s);
      });
      s.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      // A receiver that closes or resets the connection: the next batch reconnects.
      s.on('close', () => {
        if (socket === s) socket = undefined;
      });
      s.on('error', () => {
        if (socket === s) socket = undefined;
      });
      // Nothing is expected back; data from the receiver is read and dropped.
      s.on('data', () => {});
    });
  }

  return {
    name: opts.name ?? 'syslog',
    async send(records: readonly ExportRecord[]): Promise<SendResult> {
      try {
        if (!socket || socket.destroyed) socket = await open();
        const s = socket;
        const frames = syslogFrames(records, { facility: opts.facility, hostname: host });
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`write timed out after ${timeoutMs} ms`)),
            timeoutMs,
          );
          s.write(frames, (err) => {
            clearTimeout(timer);
            if (err) reject(err);
            else resolve();
          });
        });
        return DELIVERED;
      } catch (err) {
        socket?.destroy();
        socket = undefined;
        throw new RetryLaterError(`syslog ${opts.host}:${opts.port}: ${(err as Error).message}`);
      }
    },
    async close() {
      const s = socket;
      socket = undefined;
      if (!s || s.destroyed) return;
      await new Promise<void>((resolve) => {
        s.end(() => resolve());
        setTimeout(() => {
          s.destroy();
          resolve();
        }, 2_000).unref();
      });
    },
  };
}
