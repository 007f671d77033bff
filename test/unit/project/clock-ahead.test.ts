// The year-ahead pass (scripts/test.sh with VIGIL_TEST_YEAR_AHEAD=1) is only a proof if the clock
// of the test processes really moved: the kernel's clock (a fresh file's mtime) is the reference
// the preload cannot move. In the first pass the two agree.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const DAY = 86_400_000;
const aheadDays = Number(process.env.VIGIL_TEST_CLOCK_AHEAD_DAYS ?? 0);

function kernelNow(): number {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-clock-'));
  try {
    const file = join(dir, 'now');
    writeFileSync(file, '');
    return statSync(file).mtimeMs;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe(`the test clock (${aheadDays} days ahead of the kernel's)`, () => {
  it('is the kernel clock moved by the pass offset, in this worker', () => {
    const skew = Date.now() - kernelNow();
    expect(Math.abs(skew - aheadDays * DAY)).toBeLessThan(60_000);
    expect(Math.abs(Date.parse(new Date().toISOString()) - kernelNow() - aheadDays * DAY)).toBeLessThan(
      60_000,
    );
  });

  it('is the same in a child process (what a spawned vigil reads)', () => {
    const child = Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(Date.now()))']));
    expect(Math.abs(child - kernelNow() - aheadDays * DAY)).toBeLessThan(60_000);
  });

  it('moves the OpenTelemetry SDK time origin with it (spans are stamped from it)', async () => {
    const { performance } = await import('node:perf_hooks');
    expect(Math.abs(performance.timeOrigin + performance.now() - Date.now())).toBeLessThan(1_000);
  });
});
