// The sinks the configuration asks for (VIGIL_EXPORT_* keys): one per configured destination.
import { readFileSync } from 'node:fs';
import type { Env } from '../config/index.js';
import type { ExportSink } from './sink.js';
import { createElasticBulkSink } from './sinks/elastic-bulk.sink.js';
import { createOcsfFileSink, createOcsfHttpSink } from './sinks/ocsf.sink.js';
import { createSplunkHecSink } from './sinks/splunk-hec.sink.js';
import { createSyslogCefSink } from './sinks/syslog-cef.sink.js';

export function sinksFromEnv(env: Readonly<Env>): ExportSink[] {
  const sinks: ExportSink[] = [];
  if (env.VIGIL_EXPORT_SPLUNK_URL && env.VIGIL_EXPORT_SPLUNK_TOKEN)
    sinks.push(
      createSplunkHecSink({
        url: env.VIGIL_EXPORT_SPLUNK_URL,
        token: env.VIGIL_EXPORT_SPLUNK_TOKEN,
        index: env.VIGIL_EXPORT_SPLUNK_INDEX,
      }),
    );
  if (env.VIGIL_EXPORT_ELASTIC_URL)
    sinks.push(
      createElasticBulkSink({
        url: env.VIGIL_EXPORT_ELASTIC_URL,
        apiKey: env.VIGIL_EXPORT_ELASTIC_API_KEY,
        index: env.VIGIL_EXPORT_ELASTIC_INDEX,
      }),
    );
  if (env.VIGIL_EXPORT_SYSLOG_ADDRESS) {
    const i = env.VIGIL_EXPORT_SYSLOG_ADDRESS.lastIndexOf(':');
    sinks.push(
      createSyslogCefSink({
        host: env.VIGIL_EXPORT_SYSLOG_ADDRESS.slice(0, i),
        port: Number(env.VIGIL_EXPORT_SYSLOG_ADDRESS.slice(i + 1)),
        tls: env.VIGIL_EXPORT_SYSLOG_TLS
          ? env.VIGIL_EXPORT_SYSLOG_TLS_CA_FILE
            ? { ca: readFileSync(env.VIGIL_EXPORT_SYSLOG_TLS_CA_FILE) }
            : {}
          : undefined,
      }),
    );
  }
  if (env.VIGIL_EXPORT_OCSF_FILE) sinks.push(createOcsfFileSink({ path: env.VIGIL_EXPORT_OCSF_FILE }));
  if (env.VIGIL_EXPORT_OCSF_URL)
    sinks.push(createOcsfHttpSink({ url: env.VIGIL_EXPORT_OCSF_URL, token: env.VIGIL_EXPORT_OCSF_TOKEN }));
  return sinks;
}
