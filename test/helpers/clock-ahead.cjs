// The year-ahead pass of `npm test` (scripts/test.sh, VIGIL_TEST_CLOCK_AHEAD_DAYS): preloaded into
// every Node process of that pass through NODE_OPTIONS=--require, it moves the wall clock those
// processes read (Date, Date.now, performance.timeOrigin — what OpenTelemetry's SDK stamps spans
// with) the given number of days ahead. Monotonic time (performance.now, process.hrtime, timers)
// is left alone, as a changed calendar leaves it.
//
// Why not libfaketime: it also rewrites the absolute deadlines of pthread_cond_timedwait, and the
// embedded ClickHouse engine (chDB) reads its clock without libc, so every deadline of its
// background threads lands 400 days in the past and they spin (measured here: an idle chDB session
// burns 4.8 s of CPU in 5 s under `faketime +400d`, 0.01 s without; the soak test fell to 31
// events/s). The engine keeps the real clock either way.
'use strict';
const days = Number(process.env.VIGIL_TEST_CLOCK_AHEAD_DAYS);
if (!Number.isInteger(days) || days <= 0 || days > 3650) {
  throw new Error('VIGIL_TEST_CLOCK_AHEAD_DAYS: a whole number of days from 1 to 3650');
}
const offset = days * 86_400_000;
const RealDate = Date;

function ShiftedDate(...args) {
  if (new.target === undefined) return new RealDate(RealDate.now() + offset).toString();
  return Reflect.construct(RealDate, args.length === 0 ? [RealDate.now() + offset] : args, new.target);
}
ShiftedDate.prototype = RealDate.prototype;
Object.defineProperty(RealDate.prototype, 'constructor', {
  value: ShiftedDate,
  writable: true,
  configurable: true,
});
ShiftedDate.now = () => RealDate.now() + offset;
ShiftedDate.parse = RealDate.parse;
ShiftedDate.UTC = RealDate.UTC;
Object.defineProperty(ShiftedDate, 'name', { value: 'Date' });
globalThis.Date = ShiftedDate;

const { performance } = require('node:perf_hooks');
const origin = performance.timeOrigin + offset;
Object.defineProperty(performance, 'timeOrigin', { get: () => origin, configurable: true });
