// The V8 flags vigil runs with, wherever it is started (bin/vigil.js's shebang, the Dockerfile's
// entrypoint, `npm run demo`, the benchmark and the tests that start the CLI; a unit test holds
// them to this list, test/unit/project/node-flags.test.ts).
//
// A young generation of 64 MB semi-spaces instead of Node's 16 MB: an event lives from its request
// until it is stored and detected, a few hundred milliseconds to a second, and at thousands of
// events a second the default semi-spaces were scavenged often enough that many of them survived
// two scavenges and were promoted, leaving V8's old-generation marking (its helper threads) with
// a third of the process's CPU per event. Measured (bench/PROFILE.md): 25–35 % more events per CPU
// second of vigil, detection latency p99 lower, for up to ~100 MB more resident memory.
// V8 reads the flag only at start-up (v8.setFlagsFromString is too late), hence the launchers.
export const VIGIL_NODE_FLAGS = ['--max-semi-space-size=64'] as const;
