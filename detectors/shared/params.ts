// Parameter pieces several detectors' schemas share (see each detector's `*.params.ts`).
import { z } from 'zod';
import { duration } from '../../src/config/duration.js';

/** An hour's window length: divides an hour, from 1m to 1h. */
export const windowInHour = duration
  .default('10m')
  .refine(
    (ms) => ms >= 60_000 && ms <= 3_600_000 && 3_600_000 % ms === 0,
    'must divide an hour, from 1m to 1h (e.g. 5m, 10m, 15m)',
  );
/** Active hours of history a log-scale baseline keeps. */
export const historyHours = z.number().int().min(8).max(64).default(24);
/** Width of a log-scale band in robust σ (σ measured in doublings). */
export const logSigmas = z.number().positive().default(4);
