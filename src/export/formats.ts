// The text formats of a batch export (`vigil export --format`): one line per record.
import { toCef } from './cef.mapper.js';
import { toEcs } from './ecs.mapper.js';
import { toOcsf } from './ocsf.mapper.js';
import type { ExportRecord } from './record.js';
import { toSplunkHec } from './splunk.mapper.js';

export const EXPORT_FORMATS = ['ocsf', 'ecs', 'cef', 'splunk'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** The record as one line of the format (no trailing newline). */
export function formatLine(format: ExportFormat, record: ExportRecord): string {
  switch (format) {
    case 'ocsf':
      return JSON.stringify(toOcsf(record));
    case 'ecs':
      return JSON.stringify(toEcs(record));
    case 'cef':
      return toCef(record);
    case 'splunk':
      return JSON.stringify(toSplunkHec(record));
  }
}
