// Splunk HTTP Event Collector: `POST /services/collector/event` with `Authorization: Splunk <token>`,
// the batch as concatenated JSON event objects. HEC answers {"text":"Success","code":0}; a batch is
// all-or-nothing, so any failure re-sends (or, for a 400, bisects) the whole batch.
import { PermanentError } from '../../model/index.js';
import type { ExportRecord } from '../record.js';
import { DELIVERED, type ExportSink, type SendResult } from '../sink.js';
import { type SplunkHecOptions, toSplunkHec } from '../splunk.mapper.js';
import { httpPost } from './http.js';

export interface SplunkHecSinkOptions extends SplunkHecOptions {
  /** HEC base URL (`https://splunk:8088`) or the full endpoint URL. */
  readonly url: string;
  readonly token: string;
  /** @defaultValue 'splunk' */
  readonly name?: string;
  /** @defaultValue 10000 */
  readonly timeoutMs?: number;
}

export function hecEndpoint(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return /\/services\/collector(\/event)?$/.test(trimmed)
    ? trimmed.replace(/\/services\/collector$/, '/services/collector/event')
    : `${trimmed}/services/collector/event`;
}

export function createSplunkHecSink(opts: SplunkHecSinkOptions): ExportSink {
  const endpoint = hecEndpoint(opts.url);
  return {
    name: opts.name ?? 'splunk',
    async send(records: readonly ExportRecord[]): Promise<SendResult> {
      const body = records.map((r) => JSON.stringify(toSplunkHec(r, opts))).join('');
      const answer = await httpPost({
        url: endpoint,
        headers: { authorization: `Splunk ${opts.token}`, 'content-type': 'application/json' },
        body,
        timeoutMs: opts.timeoutMs ?? 10_000,
        what: 'Splunk HEC',
      });
      // A 200 whose body is not HEC's success answer means something else (a proxy) answered.
      let code: unknown;
      try {
        code = (JSON.parse(answer.text) as { code?: unknown }).code;
      } catch {
        code = undefined;
      }
      if (code !== 0)
        throw new PermanentError(`Splunk HEC answered 200 without success: ${answer.text.slice(0, 200)}`);
      return DELIVERED;
    },
    async close() {},
  };
}
