// Message decoders by format, for sources that carry another collector's format (the Kafka
// source): each reuses that collector's own parsing and normalization, so a record means the
// same whether it arrived over HTTP or through a topic.
import type { PipelineConfig } from '../config/index.js';
import type { AccessEvent } from '../model/index.js';
import type { CollectorDeps } from './deps.js';
import { parseGenericBody } from './generic/server.js';
import { normalizeHoopWebhook } from './hoop/hoop.normalizer.js';
import type { MessageDecoder } from './kafka/source.js';
import { DEFAULT_MAX_ITEMS, splitJsonBody } from './ndjson.js';
import { decodeTraceRequestJson, decodeTraceRequestProto } from './otlp/otlp.decoder.js';
import { mapExportRequest } from './otlp/span.mapper.js';
import type { Rejection } from './reasons.js';
import { runToEnd } from './slices.js';
import { createAppSessions, parseTeleportBody } from './teleport/server.js';

export type SourceFormat = PipelineConfig['sources']['kafka']['format'];

/** Topic records carry no transport header: their tenant comes from the record or is `default`. */
const TOPIC_TENANT = 'default';

export function decoderFor(format: SourceFormat, deps: CollectorDeps): MessageDecoder {
  const limits = { maxItems: deps.maxItemsPerRequest ?? DEFAULT_MAX_ITEMS };
  switch (format) {
    case 'generic':
      return (value, now) => parseGenericBody(value, 'application/x-ndjson', deps, now, limits);
    case 'teleport': {
      const appSessions = createAppSessions();
      return (value, now) =>
        parseTeleportBody(
          value,
          'application/x-ndjson',
          {
            tokenizer: deps.tokenizer,
            tenant: TOPIC_TENANT,
            now,
            appSessions,
            retentionDays: deps.retentionDays,
          },
          limits,
        );
    }
    case 'hoop':
      return (value, now) => {
        const { items, rejected } = runToEnd(splitJsonBody(value, 'application/x-ndjson', limits));
        const events: AccessEvent[] = [];
        for (const { value: item, line } of items) {
          const r = normalizeHoopWebhook(item, { tokenizer: deps.tokenizer, tenant: TOPIC_TENANT, now });
          if (!r.ok) rejected.push({ line, reason: r.reason });
          else if (r.value) events.push(r.value);
        }
        return { events, rejected };
      };
    case 'otlp-proto':
    case 'otlp-json':
      return (value, now) => {
        const req = format === 'otlp-proto' ? decodeTraceRequestProto(value) : decodeTraceRequestJson(value);
        const mapped = mapExportRequest(req, {
          tokenizer: deps.tokenizer,
          now,
          retentionDays: deps.retentionDays,
        });
        const rejected: Rejection[] = mapped.rejected ? [{ line: 0, reason: mapped.errorMessage }] : [];
        return { events: mapped.events, rejected };
      };
  }
}
