// `vigil replay` of an NDJSON file of generic events on embedded defaults, as a user runs it: the
// CLI in its own process, its own pipeline (no vigil running), timed from start to exit (start-up,
// migrations, tokenizing, detection, the store, the drain). Raw: the same file read line by line
// and every line parsed as JSON, the floor of reading it at all.
import { execFile } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { VIGIL_NODE_FLAGS } from '../../src/cli/node-flags.js';
import { packageRoot } from '../../src/config/index.js';
import { round } from '../lib/measure.js';
import { type StageOptions, stageMain } from '../lib/stage.js';
import { createGenericLines } from '../lib/workload.js';

const run = promisify(execFile);

export interface ReplayStageOptions extends StageOptions {
  readonly events: number;
  readonly identities: number;
}

export interface ReplayStageResult {
  readonly events: number;
  readonly replay_events_per_s: number;
  readonly replay_raw_events_per_s: number;
  /** The CLI's own summary line. */
  readonly summary: string;
}

/** The file: `events` lines over the last 24 hours, in time order (well inside retention). */
function writeFile(file: string, events: number, identities: number): void {
  const line = createGenericLines(identities, 11);
  const end = Date.now() - 60_000;
  const span = 24 * 3_600_000;
  const lines: string[] = [];
  for (let i = 0; i < events; i++)
    lines.push(line(`replay-${i}`, end - span + Math.floor((i / events) * span)));
  writeFileSync(file, `${lines.join('\n')}\n`);
}

async function parseAll(file: string): Promise<number> {
  let n = 0;
  for await (const text of createInterface({
    input: createReadStream(file),
    crlfDelay: Number.POSITIVE_INFINITY,
  }))
    if (text !== '' && JSON.parse(text)) n++;
  return n;
}

stageMain<ReplayStageOptions, ReplayStageResult>(async (opts) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-replay-'));
  try {
    const file = path.join(dir, 'events.ndjson');
    writeFile(file, opts.events, opts.identities);
    const t0 = performance.now();
    const { stdout } = await run(
      process.execPath,
      [...VIGIL_NODE_FLAGS, path.join(packageRoot(), 'bin/vigil.js'), 'replay', '--input', file],
      {
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          VIGIL_DATA_DIR: path.join(dir, 'data'),
          VIGIL_LOG_LEVEL: 'warn',
        },
        timeout: 600_000,
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    const seconds = (performance.now() - t0) / 1000;
    const r0 = performance.now();
    const parsed = await parseAll(file);
    const rawSeconds = (performance.now() - r0) / 1000;
    if (parsed !== opts.events) throw new Error(`replay raw: ${parsed} lines parsed of ${opts.events}`);
    const summary = stdout.trim().split('\n').at(-1) ?? '';
    if (!summary.replace(/,/g, '').startsWith(`replayed ${opts.events} events (0 rejected)`))
      throw new Error(`replay did not take every event: ${summary}`);
    return {
      events: opts.events,
      replay_events_per_s: round(opts.events / seconds),
      replay_raw_events_per_s: round(opts.events / rawSeconds),
      summary,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
