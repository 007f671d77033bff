// The pipeline schema on its own (the YAML loading is in config.test.ts).
import { describe, expect, it } from 'vitest';
import { volumeSpikeParamsSchema } from '../../../detectors/volume-spike/volume-spike.params.js';
import { pipelineSchema, responseSchema } from '../../../src/config/pipeline.js';

describe('volumeSpikeParamsSchema', () => {
  it('fills defaults and turns the window into milliseconds', () => {
    expect(volumeSpikeParamsSchema.parse({})).toEqual({
      enabled: true,
      window: 600_000,
      warmup_hours: 24,
      min_count: 50,
      threshold_sigmas: 6,
      history_per_slot: 8,
      adapt_after: 6,
    });
    expect(volumeSpikeParamsSchema.parse({ window: 300_000 }).window).toBe(300_000);
  });

  it.each([
    [{ window: '7m' }, 'window'],
    [{ window: 420_000 }, 'window'],
    [{ history_per_slot: 2 }, 'history_per_slot'],
    [{ history_per_slot: 33 }, 'history_per_slot'],
    [{ min_count: 0 }, 'min_count'],
    [{ threshold_sigmas: -1 }, 'threshold_sigmas'],
    [{ warmup_hours: 1.5 }, 'warmup_hours'],
    [{ adapt_after: -1 }, 'adapt_after'],
    [{ adapt_after: 2.5 }, 'adapt_after'],
  ])('rejects %j at %s', (params, field) => {
    const r = volumeSpikeParamsSchema.safeParse(params);
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual([field]);
  });
});

describe('responseSchema', () => {
  it('fills webhook action defaults', () => {
    const r = responseSchema.parse({ actions: [{ type: 'webhook' }] });
    expect(r.actions[0]).toEqual({
      name: 'webhook-vigil-webhook-url',
      type: 'webhook',
      mode: 'enforce',
      url_env: 'VIGIL_WEBHOOK_URL',
      secret_env: 'VIGIL_WEBHOOK_SECRET',
      timeout: 5_000,
    });
  });

  it('bounds incident_min_score to [0, 1]', () => {
    expect(responseSchema.safeParse({ incident_min_score: 1.1 }).success).toBe(false);
    expect(responseSchema.safeParse({ incident_min_score: -0.1 }).success).toBe(false);
  });
});

describe('pipelineSchema', () => {
  it('requires version 1 and rejects unknown top-level keys', () => {
    expect(pipelineSchema.safeParse({}).success).toBe(false);
    const r = pipelineSchema.safeParse({ version: 1, detectrs: {} });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.code).toBe('unrecognized_keys');
  });
});
