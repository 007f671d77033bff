// Structured logs (pino) to stderr, so stdout stays clean for CLI output. Log lines carry tokens,
// counts and reasons only: never request bodies, headers or raw identifiers.
import pino, { type Logger } from 'pino';
import { PRIVATE_FILE_MODE } from '../config/private-files.js';
import { formatLogLine } from './log-text.js';

export type { Logger };

/** @param file log to this file (appending) instead of stderr */
export function createLogger(level: string, name = 'vigil', file?: string): Logger {
  return pino(
    {
      name,
      level,
      base: { pid: process.pid },
      redact: {
        paths: [
          'authorization',
          '*.authorization',
          'headers',
          '*.headers',
          'req.remoteAddress',
          'secret',
          '*.secret',
          'token',
          '*.token',
        ],
        censor: '[redacted]',
      },
      serializers: { err: pino.stdSerializers.err },
    },
    // A log file is created owner-only (it holds tokens); one the operator made keeps its mode.
    // stderr on a terminal gets readable lines; anywhere else (a pipe, a shipper) stays JSON.
    file
      ? pino.destination({ dest: file, append: true, mkdir: true, sync: true, mode: PRIVATE_FILE_MODE })
      : process.stderr.isTTY
        ? terminalDestination()
        : pino.destination(2),
  );
}

/** Writes each (redacted) JSON line to stderr as text; colours unless NO_COLOR is set or TERM is dumb. */
function terminalDestination(): { write(line: string): void } {
  const colour = !(process.env.NO_COLOR ?? '') && process.env.TERM !== 'dumb';
  return { write: (line) => process.stderr.write(formatLogLine(line, colour)) };
}
