// SIEM export: format mappers (OCSF, ECS, CEF, Splunk HEC), streaming sinks with checkpoints, and
// the batch export behind `vigil export`.
export { exportRange, exportRecords, type BatchExportOptions } from './batch.js';
export { cefSeverity, escapeCefHeader, escapeCefValue, toCef } from './cef.mapper.js';
export { ECS_VERSION, type EcsDocument, toEcs } from './ecs.mapper.js';
export { EXPORT_FORMATS, type ExportFormat, formatLine } from './formats.js';
export { sinksFromEnv } from './from-env.js';
export { OCSF_CLASSES, OCSF_VERSION, type OcsfObject, toOcsf } from './ocsf.mapper.js';
export {
  EXPORT_KINDS,
  type ExportKind,
  type ExportRecord,
  parseKinds,
  recordTime,
  recordUid,
} from './record.js';
export { type ExportSinkOptions, type ExportSinkRunner, startExportSink } from './runner.js';
export { cleanText } from './sanitize.js';
export {
  DELIVERED,
  deliver,
  type ExportSink,
  type RejectedRecord,
  type RetryPolicy,
  RetryLaterError,
  type SendResult,
} from './sink.js';
export { createElasticBulkSink, type ElasticBulkSinkOptions } from './sinks/elastic-bulk.sink.js';
export { createOcsfFileSink, createOcsfHttpSink } from './sinks/ocsf.sink.js';
export { createSplunkHecSink, type SplunkHecSinkOptions } from './sinks/splunk-hec.sink.js';
export { createSyslogCefSink, type SyslogCefSinkOptions, syslogFrames } from './sinks/syslog-cef.sink.js';
export { toSplunkHec, type SplunkHecEvent } from './splunk.mapper.js';
export { loadExportCheckpoints, type Range } from './store-reader.js';
export { octetFrame, rfc5424 } from './syslog.js';
