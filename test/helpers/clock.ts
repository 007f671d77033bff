// The suite's calendar. A test that stores events, or whose code under test compares event time
// with the wall clock (retention, TTL, lookbacks, lateness), places its events relative to
// TEST_MONDAY: a Monday at 00:00 UTC two to three weeks before the run, so weekday and hour
// semantics stay fixed while every date moves with the calendar. The suite also runs with the
// clock a year ahead (scripts/test.sh, faketime), which a fixed date would fail.
const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
/** 1970-01-05T00:00Z was a Monday. */
const FIRST_MONDAY_MS = 4 * DAY_MS;

/** The Monday 00:00 UTC on or before `t`. */
export function mondayOnOrBefore(t: number): number {
  return Math.floor((t - FIRST_MONDAY_MS) / WEEK_MS) * WEEK_MS + FIRST_MONDAY_MS;
}

export const TEST_MONDAY = mondayOnOrBefore(Date.now() - 14 * DAY_MS);

/** `day` days after TEST_MONDAY (0 = that Monday), at the given UTC time of day. */
export function testTime(day: number, hour = 0, minute = 0, second = 0, ms = 0): number {
  return TEST_MONDAY + day * DAY_MS + ((hour * 60 + minute) * 60 + second) * 1000 + ms;
}

/** testTime as an ISO-8601 string. */
export const testIso = (day: number, hour = 0, minute = 0, second = 0): string =>
  new Date(testTime(day, hour, minute, second)).toISOString();
