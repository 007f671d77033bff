// The mapping table of docs/otel-mapping.md: every span of every captured instrumentation
// (test/fixtures/otel-capture) run through the real mapper, one row per span. Generated, never
// written by hand: scripts/otel-mapping-table.ts prints or writes it, and
// test/unit/project/otel-mapping-doc.test.ts fails when the document no longer says what the mapper does.
import { mapSpan } from '../../src/collectors/otlp/span.mapper.js';
import { createTokenizer } from '../../src/privacy/index.js';
import { CAPTURED, captureVersions, capturedRequest } from './otel-capture.js';

const tokenizer = createTokenizer({ version: 1, secret: Buffer.alloc(32, 7) });

const cell = (v: string | number | null): string => (v === null ? 'null' : v === '' ? "''" : String(v));

/** The markdown table: instrumentation → span → the fields vigil stores. */
export function otelMappingTable(now: number = Date.now()): string {
  const lines = [
    '| instrumentation | span | operation | collection | namespace | top_k | returned | outcome | error_type |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const vendor of CAPTURED) {
    const versions = captureVersions(vendor);
    const instrumentation = Object.entries(versions)
      .filter(([pkg]) => pkg.startsWith('opentelemetry-instrumentation-'))
      .map(([pkg, v]) => `${pkg.replace('opentelemetry-instrumentation-', '')} ${v}`)
      .join(', ');
    for (const rs of capturedRequest(vendor, now).resourceSpans) {
      for (const span of rs.spans) {
        const m = mapSpan(span, rs.resource, { tokenizer, now });
        const head = `| ${instrumentation} | \`${span.name}\``;
        if (m.kind === 'event') {
          const e = m.event;
          const fields = [
            e.operation,
            e.collection,
            e.namespace,
            e.top_k,
            e.returned,
            e.outcome,
            e.error_type,
          ];
          lines.push(`${head} | ${fields.map(cell).join(' | ')} |`);
        } else {
          const why = m.kind === 'not_db' ? 'not a database call: not stored' : `rejected: ${m.reason}`;
          lines.push(`${head} | ${why} | | | | | | |`);
        }
      }
    }
  }
  return `${lines.join('\n')}\n`;
}
