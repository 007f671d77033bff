// Prints the table of docs/otel-mapping.md (every captured OpenLLMetry span → the fields vigil
// stores, by the real mapper), or with --write puts it into the document between its markers.
//   npx vite-node scripts/otel-mapping-table.ts [--write]
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { otelMappingTable } from '../test/helpers/otel-mapping-table.js';
import { replaceGeneratedTable } from '../test/helpers/otel-mapping-doc.js';

const doc = path.join(import.meta.dirname, '..', 'docs', 'otel-mapping.md');
const table = otelMappingTable();
if (process.argv.includes('--write'))
  writeFileSync(doc, replaceGeneratedTable(readFileSync(doc, 'utf8'), table));
else process.stdout.write(table);
