#!/usr/bin/env node
// The `vigil` command: a thin launcher for the compiled CLI (built by `npm install` through `prepare`).
import { main } from '../dist/src/cli/index.js';

main(process.argv).catch((err) => {
  process.stderr.write(`vigil: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
