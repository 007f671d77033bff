// The export role: one runner per SIEM sink configured in the environment, each polling the store
// past its own checkpoint (at-least-once).
import type { Config } from '../../config/index.js';
import { type ExportSinkRunner, sinksFromEnv, startExportSink } from '../../export/index.js';
import { errorMessage } from '../../model/index.js';
import type { StoreClient } from '../../store/index.js';
import type { Logger } from '../../telemetry/index.js';

export async function startExportRole(
  config: Config,
  store: StoreClient,
  logger: Logger,
): Promise<ExportSinkRunner[]> {
  const runners: ExportSinkRunner[] = [];
  for (const sink of sinksFromEnv(config.env)) {
    runners.push(
      await startExportSink({
        client: store,
        sink,
        kinds: config.env.VIGIL_EXPORT_KINDS,
        intervalMs: config.env.VIGIL_EXPORT_INTERVAL,
        tenant: config.env.VIGIL_EXPORT_TENANT,
        batchSize: config.env.VIGIL_EXPORT_BATCH_SIZE,
        onError: (err) =>
          logger.warn({ sink: sink.name, err: errorMessage(err) }, 'export failed, will retry'),
        onRejected: (rejected) =>
          logger.warn({ sink: sink.name, rejected: rejected.length }, 'SIEM refused records (dead-lettered)'),
      }),
    );
  }
  return runners;
}
