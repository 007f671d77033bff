#!/usr/bin/env -S node --max-semi-space-size=64
// The `vigil` command: a thin launcher for the compiled CLI (built by `npm install` through `prepare`).
// The shebang's V8 flags are src/cli/node-flags.ts's (`node bin/vigil.js` without them runs, slower).
import { main } from '../dist/src/cli/index.js';

main(process.argv).catch((err) => {
  process.stderr.write(`vigil: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
