// Each benchmark stage runs in its own Node process: the embedded engine binds one data directory
// per process, heap figures need a clean heap, and a CPU profile should show one stage only. The
// orchestrator forks the compiled stage file with its options as JSON in argv; the stage answers
// with one IPC message holding its result (or its error).
import { fork } from 'node:child_process';
import path from 'node:path';
import { VIGIL_NODE_FLAGS } from '../../src/cli/node-flags.js';

export interface StageOptions {
  readonly quick: boolean;
  /** Directory for --cpu-prof output, when profiling. */
  readonly profileDir?: string;
  readonly [key: string]: unknown;
}

type Message = { ok: true; result: unknown } | { ok: false; error: string };

const STAGES_DIR = path.join(import.meta.dirname, '..', 'stages');

/** Runs `bench/stages/<name>.stage.js` in a child process and returns what it reported. */
export function runStage<R>(name: string, opts: StageOptions, timeoutMs: number): Promise<R> {
  // vigil's own V8 flags: the stages run vigil in their process (src/cli/node-flags.ts).
  const execArgv = ['--expose-gc', '--max-old-space-size=4096', ...VIGIL_NODE_FLAGS];
  if (opts.profileDir)
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`, `--cpu-prof-name=${name}.cpuprofile`);
  const child = fork(path.join(STAGES_DIR, `${name}.stage.js`), [JSON.stringify(opts)], {
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise<R>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      child.kill('SIGKILL');
      reject(new Error(`stage ${name} did not finish within ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    child.on('message', (m: Message) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (m.ok) resolve(m.result as R);
      else reject(new Error(`stage ${name}: ${m.error}`));
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (settled) return;
      settled = true;
      reject(new Error(`stage ${name} exited (${signal ?? code}) without a result`));
    });
  });
}

/** The stage side: parses the options, runs `body`, reports, exits (so a CPU profile is written). */
export function stageMain<O extends StageOptions, R>(body: (opts: O) => Promise<R>): void {
  const opts = JSON.parse(process.argv[2] ?? '{}') as O;
  body(opts).then(
    (result) => finish({ ok: true, result }),
    (err: unknown) =>
      finish({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
}

function finish(m: Message): void {
  if (process.send) process.send(m, () => process.exit(m.ok ? 0 : 1));
  else {
    process.stdout.write(`${JSON.stringify(m, null, 2)}\n`);
    process.exit(m.ok ? 0 : 1);
  }
}
