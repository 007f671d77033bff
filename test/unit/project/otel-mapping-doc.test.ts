// docs/otel-mapping.md says what the mapper does: its table is the one the real mapper makes from
// the captured spans (test/helpers/otel-mapping-table.ts). A mapping change or a new capture fails
// here until `npx vite-node scripts/otel-mapping-table.ts --write` regenerates the document.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CAPTURED, capturedRequest } from '../../helpers/otel-capture.js';
import { generatedTable } from '../../helpers/otel-mapping-doc.js';
import { otelMappingTable } from '../../helpers/otel-mapping-table.js';

const DOC = readFileSync(path.join(import.meta.dirname, '..', '..', '..', 'docs', 'otel-mapping.md'), 'utf8');

describe('docs/otel-mapping.md', () => {
  it('holds the table the mapper makes from the captured spans', () => {
    expect(generatedTable(DOC)).toBe(otelMappingTable());
  });

  it('has one row per captured span', () => {
    const spans = CAPTURED.reduce(
      (n, v) => n + capturedRequest(v, Date.now()).resourceSpans.reduce((m, rs) => m + rs.spans.length, 0),
      0,
    );
    const rows = otelMappingTable().trim().split('\n').length - 2;
    expect(rows).toBe(spans);
  });
});
