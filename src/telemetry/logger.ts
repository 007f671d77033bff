// Structured logs (pino) to stderr, so stdout stays clean for CLI output. Log lines carry tokens,
// counts and reasons only: never request bodies, headers or raw identifiers.
import pino, { type Logger } from 'pino';
import { PRIVATE_FILE_MODE } from '../config/private-files.js';

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
    pino.destination(
      file ? { dest: file, append: true, mkdir: true, sync: true, mode: PRIVATE_FILE_MODE } : 2,
    ),
  );
}
