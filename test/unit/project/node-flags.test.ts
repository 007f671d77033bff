// vigil runs with the same V8 flags however it is started: the launcher's shebang, the container's
// entrypoint, `npm run demo`, the tests that start the CLI and the benchmark (src/cli/node-flags.ts).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { VIGIL_NODE_FLAGS } from '../../../src/cli/node-flags.js';

const root = path.resolve(import.meta.dirname, '../../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

describe('the V8 flags vigil runs with', () => {
  const flags = VIGIL_NODE_FLAGS.join(' ');

  it('are in the launcher, the container entrypoint and the demo script', () => {
    expect(read('bin/vigil.js').split('\n')[0]).toBe(`#!/usr/bin/env -S node ${flags}`);
    const entrypoint = /^ENTRYPOINT (.+)$/m.exec(read('Dockerfile'))?.[1];
    expect(JSON.parse(entrypoint ?? 'null')).toEqual(['node', ...VIGIL_NODE_FLAGS, 'bin/vigil.js']);
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.demo).toBe(`node ${flags} bin/vigil.js demo`);
  });

  it('are flags this Node takes at start-up', () => {
    for (const flag of VIGIL_NODE_FLAGS)
      expect(process.allowedNodeEnvironmentFlags.has(flag.split('=')[0]!)).toBe(true);
  });
});
