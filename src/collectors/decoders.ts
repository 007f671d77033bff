// Message decoders by format, for sources that carry another collector's format (the Kafka
// source): each reuses that collector's own parsing and normalization.
import type { PipelineConfig } from '../config/index.js';
import type { CollectorDeps } from './deps.js';
import { parseGenericBody } from './generic/server.js';
import type { MessageDecoder } from './kafka/source.js';

export type SourceFormat = PipelineConfig['sources']['kafka']['format'];

export function decoderFor(format: SourceFormat, deps: CollectorDeps): MessageDecoder {
  switch (format) {
    case 'generic':
      return (value, now) => parseGenericBody(value, 'application/x-ndjson', deps, now);
    default:
      throw new Error(`sources.kafka.format: ${format} is not supported yet`);
  }
}
