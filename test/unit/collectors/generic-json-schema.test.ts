// The published JSON Schema of generic events and the zod schema that enforces it stay in step.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { genericEventSchema } from '../../../src/collectors/generic/generic.schema.js';

const jsonSchema = JSON.parse(
  readFileSync(
    path.resolve(import.meta.dirname, '../../../src/collectors/generic/generic-event.schema.json'),
    'utf8',
  ),
) as { properties: Record<string, unknown>; required: string[] };

describe('generic event JSON Schema', () => {
  it('documents exactly the fields the collector accepts', () => {
    const zodKeys = Object.keys(genericEventSchema._def.schema.shape).sort();
    expect(Object.keys(jsonSchema.properties).sort()).toEqual(zodKeys);
  });

  it('marks as required exactly the fields zod requires', () => {
    const shape = genericEventSchema._def.schema.shape as Record<string, { isOptional(): boolean }>;
    const required = Object.entries(shape)
      .filter(([, t]) => !t.isOptional())
      .map(([k]) => k)
      .filter((k) => k !== 'actor_type') // has a default
      .sort();
    expect([...jsonSchema.required].sort()).toEqual(required);
  });
});
