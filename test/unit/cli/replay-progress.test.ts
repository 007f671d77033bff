// What `vigil replay` shows while and after it works: findings counted apart from their updates,
// events/s, a bar on a terminal and a plain line now and then elsewhere.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  createReplayProgress,
  describeFindings,
  eventsPerSecond,
  replaySummary,
} from '../../../src/cli/replay-progress.js';

function sink(isTTY: boolean) {
  const stream = Object.assign(new PassThrough(), { isTTY, columns: 120 });
  let text = '';
  stream.on('data', (b: Buffer) => {
    text += b.toString();
  });
  return { stream, text: () => text };
}

describe('replay output', () => {
  it('counts findings apart from their updates', () => {
    expect(describeFindings({ findings: 39, updates: 120 })).toBe('findings: 39 (120 updates)');
    expect(describeFindings({ findings: 1, updates: 1 })).toBe('findings: 1 (1 update)');
  });

  it('gives events per second', () => {
    expect(eventsPerSecond(50_000, 4_000)).toBe(12_500);
    expect(eventsPerSecond(10, 0)).toBe(0);
  });

  it('ends with a summary that says how many events, how fast, and the findings', () => {
    const line = replaySummary({
      accepted: 120_000,
      rejected: 3,
      elapsedMs: 15_000,
      counts: { detected: 120_000, findings: 39, updates: 120 },
    });
    expect(line).toBe(
      'replayed 120000 events (3 rejected) in 15.0 s, 8,000 events/s; findings: 39 (120 updates)',
    );
  });

  it('writes a progress line every few seconds when the output is not a terminal', () => {
    let clock = 0;
    const out = sink(false);
    const p = createReplayProgress({
      total: 1_000,
      stream: out.stream,
      lineEveryMs: 5_000,
      now: () => clock,
    });
    clock = 1_000;
    p.update({ detected: 100, findings: 0, updates: 0 });
    expect(out.text()).toBe('');
    clock = 5_000;
    p.update({ detected: 500, findings: 2, updates: 3 });
    expect(out.text()).toBe('replay: 500 of 1,000 events (50%), 100 events/s, findings: 2 (3 updates)\n');
    p.stop();
  });

  it('draws a bar with events/s and findings on a terminal', () => {
    const out = sink(true);
    const p = createReplayProgress({ total: 1_000, stream: out.stream });
    p.update({ detected: 400, findings: 5, updates: 9 });
    p.stop();
    expect(out.text()).toContain('400/1000 events');
    expect(out.text()).toContain('findings: 5 (9 updates)');
  });
});
