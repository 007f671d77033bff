// Every setting fails closed: a switch, a choice or a number that is not one of the values it
// lists refuses to start, naming the variable and what it accepts (never echoing the value); an
// unknown key of the pipeline refuses to start naming its path. The variables and objects checked
// are found by walking the schemas, so a variable added later is checked without editing this file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  BOOLEAN_VALUES,
  ConfigError,
  envSchema,
  loadConfig,
  loadPipeline,
  pipelineSchema,
} from '../../../src/config/index.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'vigil-config-closed-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The zod types a type is made of, through defaults, optionals, refinements and pipes. */
function parts(t: z.ZodTypeAny): z.ZodTypeAny[] {
  const d = t._def as Record<string, unknown>;
  if (t instanceof z.ZodDefault || t instanceof z.ZodOptional || t instanceof z.ZodNullable)
    return [t, ...parts(d.innerType as z.ZodTypeAny)];
  if (t instanceof z.ZodEffects) return [t, ...parts(d.schema as z.ZodTypeAny)];
  if (t instanceof z.ZodPipeline) return [t, ...parts(d.in as z.ZodTypeAny), ...parts(d.out as z.ZodTypeAny)];
  return [t];
}

const shape = envSchema.innerType().shape as Record<string, z.ZodTypeAny>;

/** Variable → the values it lists (switches and choices). */
const choices = Object.entries(shape).flatMap(([key, t]) => {
  const e = parts(t).find((p): p is z.ZodEnum<[string, ...string[]]> => p instanceof z.ZodEnum);
  return e ? [[key, e.options as string[]] as const] : [];
});
/** Variables read as whole numbers. */
const numbers = Object.entries(shape)
  .filter(([, t]) => parts(t).some((p) => p instanceof z.ZodNumber))
  .map(([key]) => key);

function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(Object.keys(env))} to be refused`);
}

describe('environment: switches and choices', () => {
  it('finds them in the schema (the walk below is not vacuous)', () => {
    const keys = choices.map(([k]) => k);
    for (const k of [
      'VIGIL_RESPONDER_KILL_SWITCH',
      'VIGIL_VAULT_ENABLED',
      'VIGIL_CLICKHOUSE_HTTP_ENABLED',
      'VIGIL_EXPORT_SYSLOG_TLS',
      'KAFKA_TLS',
      'KAFKA_SASL_MECHANISM',
      'VIGIL_LOG_LEVEL',
      'VIGIL_QUERY_TEXT',
    ])
      expect(keys).toContain(k);
    const switches = choices.filter(([, values]) => values.join() === BOOLEAN_VALUES.join());
    expect(switches.length).toBeGreaterThanOrEqual(6);
  });

  it.each(choices)(
    '%s refuses a value it does not list, naming itself and what it accepts',
    (key, values) => {
      const typos = new Set(['enabled', 'on', 'yes', `${values[0]}x`, values[0]!.toUpperCase(), 'nul']);
      for (const v of values) typos.delete(v);
      for (const typo of typos) {
        const message = refusal({ [key]: typo });
        expect(message, typo).toContain(`${key}: must be one of ${values.join(', ')}`);
        expect(message, typo).not.toContain(`'${typo}'`);
        expect(message, typo).not.toContain(`"${typo}"`);
      }
    },
  );

  it.each(choices)('%s accepts each value it lists', (key, values) => {
    // Kafka settings need brokers (and SASL its user), or they refuse for that reason instead.
    const needs: Record<string, Record<string, string>> = {
      KAFKA_TLS: { KAFKA_BROKERS: '127.0.0.1:9092' },
      KAFKA_SASL_MECHANISM: {
        KAFKA_BROKERS: '127.0.0.1:9092',
        KAFKA_TLS: 'true',
        KAFKA_SASL_USERNAME: 'u',
        KAFKA_SASL_PASSWORD: 'p',
      },
    };
    const kafka = needs[key] ?? {};
    for (const v of values) expect(() => loadConfig({ ...kafka, [key]: v }), v).not.toThrow();
  });

  it('reads a switch as true for true and 1, false for false and 0, its default when unset or blank', () => {
    const read = (v?: string) =>
      loadConfig(v === undefined ? {} : { VIGIL_VAULT_ENABLED: v }).env.VIGIL_VAULT_ENABLED;
    expect([read('true'), read('1'), read('false'), read('0'), read(), read(''), read('  ')]).toEqual([
      true,
      true,
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(loadConfig({ VIGIL_CLICKHOUSE_HTTP_ENABLED: '' }).env.VIGIL_CLICKHOUSE_HTTP_ENABLED).toBe(true);
  });
});

describe('environment: numbers', () => {
  it('finds them in the schema', () => {
    for (const k of ['VIGIL_COLLECTOR_PORT', 'VIGIL_ADMIN_PORT', 'KAFKA_PARTITIONS', 'VIGIL_EVENTS_TTL_DAYS'])
      expect(numbers).toContain(k);
  });

  it('bounds a Kafka record: 1 to 10,000 events, 1 KiB to 768 KiB (a produce request)', () => {
    const env = loadConfig({}).env;
    expect([env.KAFKA_RECORD_MAX_EVENTS, env.KAFKA_RECORD_MAX_BYTES]).toEqual([500, 256 * 1024]);
    for (const [key, bad] of [
      ['KAFKA_RECORD_MAX_EVENTS', '0'],
      ['KAFKA_RECORD_MAX_EVENTS', '10001'],
      ['KAFKA_RECORD_MAX_BYTES', '1023'],
      ['KAFKA_RECORD_MAX_BYTES', String(768 * 1024 + 1)],
    ] as const)
      expect(refusal({ [key]: bad }), `${key}=${bad}`).toContain(`${key}:`);
    const ok = loadConfig({ KAFKA_RECORD_MAX_EVENTS: '1', KAFKA_RECORD_MAX_BYTES: String(768 * 1024) }).env;
    expect([ok.KAFKA_RECORD_MAX_EVENTS, ok.KAFKA_RECORD_MAX_BYTES]).toEqual([1, 768 * 1024]);
  });

  // Number() reads "0x10" as 16, "1e3" as 1000 and "" as 0 (a blank port was a random one).
  it.each(numbers)('%s takes decimal digits only', (key) => {
    for (const bad of ['0x10', '1e3', '12abc', '-1', '1.5', 'Infinity']) {
      const message = refusal({ [key]: bad });
      expect(message, bad).toContain(`${key}:`);
      expect(message, bad).not.toContain(bad);
    }
  });

  it('treats a blank number as unset', () => {
    expect(loadConfig({ VIGIL_COLLECTOR_PORT: ' ' }).env.VIGIL_COLLECTOR_PORT).toBe(8088);
  });
});

describe('environment: lists and addresses', () => {
  it.each([
    [
      'VIGIL_EXPORT_KINDS',
      'finding,incidnt',
      'must be a comma-separated list of finding, incident, action, event',
    ],
    ['KAFKA_BROKERS', 'kafka-1,kafka-2:9092', 'must be a comma-separated list of host:port'],
    ['KAFKA_BROKERS', 'kafka-1:99999', 'must be a comma-separated list of host:port'],
    ['VIGIL_EXPORT_SYSLOG_ADDRESS', 'siem.example:70000', 'must be host:port'],
    ['REDIS_URL', 'http://127.0.0.1:6379', 'must be a URL starting with redis:// or rediss://'],
    ['CLICKHOUSE_URL', 'clickhouse:8123', 'must be a URL starting with http:// or https://'],
  ])('%s refuses %s', (key, value, reason) => {
    expect(refusal({ [key]: value })).toContain(`${key}: ${reason}`);
  });

  it('accepts host:port lists with names, addresses and bracketed IPv6', () => {
    const brokers = 'kafka-1.example:9093, 127.0.0.1:9093,[::1]:9093';
    expect(loadConfig({ KAFKA_BROKERS: brokers }).env.KAFKA_BROKERS).toBe(brokers);
  });

  it('reads the export kinds into a list', () => {
    expect(loadConfig({ VIGIL_EXPORT_KINDS: 'findings, events' }).env.VIGIL_EXPORT_KINDS).toEqual([
      'finding',
      'event',
    ]);
  });
});

/** Paths of the objects in a schema that accept keys they do not define. */
function openObjects(t: z.ZodTypeAny, at: string, out: string[]): string[] {
  const d = t._def as Record<string, unknown>;
  if (t instanceof z.ZodObject) {
    if (d.unknownKeys !== 'strict') out.push(at || '(root)');
    for (const [k, v] of Object.entries(t.shape as Record<string, z.ZodTypeAny>))
      openObjects(v, at ? `${at}.${k}` : k, out);
  } else if (t instanceof z.ZodArray) openObjects(d.type as z.ZodTypeAny, `${at}[]`, out);
  else if (t instanceof z.ZodRecord) openObjects(d.valueType as z.ZodTypeAny, `${at}.*`, out);
  else if (t instanceof z.ZodUnion || t instanceof z.ZodDiscriminatedUnion)
    for (const o of (t as z.ZodUnion<[z.ZodTypeAny, ...z.ZodTypeAny[]]>).options) openObjects(o, at, out);
  else if (t instanceof z.ZodIntersection) {
    openObjects(d.left as z.ZodTypeAny, at, out);
    openObjects(d.right as z.ZodTypeAny, at, out);
  } else if (t instanceof z.ZodLazy) openObjects(t.schema, at, out);
  else for (const p of parts(t).slice(1)) openObjects(p, at, out);
  return out;
}

let seq = 0;
const pipelineFile = (yaml: string) => {
  const file = path.join(tmp, `p-${++seq}.yaml`);
  writeFileSync(file, yaml);
  return file;
};

describe('pipeline', () => {
  it('accepts no unknown key anywhere: every object of the schema is strict', () => {
    expect(openObjects(pipelineSchema, '', [])).toEqual([]);
  });

  it('walks into nested objects (the check above is not vacuous)', () => {
    const loose = z.object({ a: z.array(z.object({ b: z.object({}).strict() })) }).strict();
    expect(openObjects(loose, '', [])).toEqual(['a[]']);
  });

  it.each([
    [
      'a switch written as yes',
      'detectors:\n  volume-spike:\n    enabled: yes\n',
      'detectors.volume-spike.enabled',
    ],
    [
      'a switch written as a string',
      'detectors:\n  off-hours:\n    enabled: "false"\n',
      'detectors.off-hours.enabled',
    ],
    [
      'a choice with a typo',
      'sources:\n  kafka:\n    format: otlp-protobuf\n',
      'sources.kafka.format: must be one of',
    ],
    ['an unknown section', 'detektors: {}\n', 'detektors'],
  ])('refuses %s, naming its path', (_what, yaml, expected) => {
    let message = '';
    try {
      loadPipeline(pipelineFile(`version: 1\n${yaml}`));
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).toContain(expected);
  });
});
