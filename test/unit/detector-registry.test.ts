// The detector registry and the default pipeline: every detector is configurable, on by default,
// and built from pipelines/default.yaml with the defaults its README documents.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDetectors } from '../../detectors/index.js';
import { loadPipeline, packageRoot, pipelineSchema } from '../../src/config/index.js';
import { createDetectorRuntime } from '../../src/detect/runtime.js';
import { makeEvent } from '../helpers/factories.js';

const ALL = [
  'volume-spike',
  'new-collection',
  'access-breadth',
  'bulk-extraction',
  'destructive-ops',
  'auth-failures/actor',
  'auth-failures/credential',
  'auth-failures/src_net',
  'credential-sharing',
  'credential-sharing/new-network',
  'off-hours',
];

describe('detector registry', () => {
  it('builds every detector from a minimal pipeline, with unique names', () => {
    const names = createDetectors(pipelineSchema.parse({ version: 1 })).map((d) => d.name);
    expect(names).toEqual(ALL);
  });

  it('builds the same detectors, with the same parameters, from pipelines/default.yaml', () => {
    const file = loadPipeline(path.join(packageRoot(), 'pipelines', 'default.yaml'));
    const defaults = pipelineSchema.parse({ version: 1 });
    expect(file.detectors).toEqual(defaults.detectors);
    expect(createDetectors(file).map((d) => d.name)).toEqual(ALL);
  });

  it('leaves out what the pipeline disables', () => {
    const p = pipelineSchema.parse({
      version: 1,
      detectors: {
        'off-hours': { enabled: false },
        'credential-sharing': { new_network: false },
        'auth-failures': { entities: ['src_net'] },
      },
    });
    const names = createDetectors(p).map((d) => d.name);
    expect(names).not.toContain('off-hours');
    expect(names).not.toContain('credential-sharing/new-network');
    expect(names).toContain('credential-sharing');
    expect(names.filter((n) => n.startsWith('auth-failures'))).toEqual(['auth-failures/src_net']);
  });

  it('rejects unknown parameters and bad values by path', () => {
    expect(() =>
      pipelineSchema.parse({ version: 1, detectors: { 'bulk-extraction': { min_rowz: 1 } } }),
    ).toThrow(/min_rowz/);
    expect(() =>
      pipelineSchema.parse({
        version: 1,
        detectors: { 'new-collection': { collections: { pii: { sensitivity: 'secret' } } } },
      }),
    ).toThrow();
    expect(() =>
      pipelineSchema.parse({ version: 1, detectors: { 'auth-failures': { window: '7m' } } }),
    ).toThrow(/divide an hour/);
  });

  it('runs every detector over an event without a credential or network', () => {
    const rt = createDetectorRuntime(createDetectors(pipelineSchema.parse({ version: 1 })));
    expect(rt.process([makeEvent({ credential: '', src_net: '' })], Date.now())).toEqual([]);
  });
});
