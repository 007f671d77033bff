// Directories and files vigil makes itself are owner-only even without the CLI's umask (this test
// process keeps its own): the data directory helper and the log file.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensurePrivateDir } from '../../../src/config/index.js';
import { createLogger } from '../../../src/telemetry/index.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'vigil-private-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const modeOf = (p: string) => statSync(p).mode & 0o777;

describe('ensurePrivateDir', () => {
  it('creates the directory and its missing parents 0700', () => {
    const dir = path.join(tmp, 'a', 'b', 'data');
    ensurePrivateDir(dir, 'VIGIL_DATA_DIR');
    for (const p of [path.join(tmp, 'a'), path.join(tmp, 'a', 'b'), dir]) expect(modeOf(p), p).toBe(0o700);
  });

  it('tightens an existing 0755 directory, and leaves what is inside alone', () => {
    const dir = path.join(tmp, 'old');
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    writeFileSync(path.join(dir, 'kept'), 'x', { mode: 0o640 });
    ensurePrivateDir(dir, 'VIGIL_DATA_DIR');
    expect(modeOf(dir)).toBe(0o700);
    expect(modeOf(path.join(dir, 'kept'))).toBe(0o640);
  });
});

describe('log file', () => {
  it('is created 0600 (in a new directory), and one the operator made keeps its mode', () => {
    const file = path.join(tmp, 'logs', 'vigil.log');
    createLogger('info', 'vigil', file).info('hello');
    expect(modeOf(file)).toBe(0o600);
    const shared = path.join(tmp, 'shared.log');
    writeFileSync(shared, '', { mode: 0o640 });
    chmodSync(shared, 0o640);
    createLogger('info', 'vigil', shared).info('hello');
    expect(modeOf(shared)).toBe(0o640);
  });
});
