// A vigil's stop, in the order that loses nothing: stop intake, drain the consumers (their
// in-flight batches finish and commit), let running actions finish, flush the writers, close the
// bus, close the store.
import type { FastifyInstance } from 'fastify';
import type { Subscription } from '../../bus/index.js';
import type { ExportSinkRunner } from '../../export/index.js';
import type { Shared } from './shared.js';
import type { SourcesWiring } from './sources.js';

/** What the roles started, registered as they start. */
export interface Started {
  /** The listeners listening. */
  readonly servers: FastifyInstance[];
  /** Intake that is not a listener (gRPC, the Kafka source, pollers, timers): stopped with the servers. */
  readonly closers: Array<() => Promise<void>>;
  readonly exporters: ExportSinkRunner[];
  /** Stage consumers in the order they started. */
  readonly subscriptions: Subscription[];
  readonly sources: SourcesWiring;
  /** The respond role's queue and guardrail state, when it runs here. */
  readonly respond?: { queue: { close(): Promise<void> }; close(): Promise<void> };
}

export async function stopInOrder(shared: Shared, started: Started): Promise<void> {
  await Promise.all([
    ...started.servers.map((s) => s.close()),
    ...started.closers.map((c) => c()),
    ...started.exporters.map((e) => e.stop()),
  ]);
  // Intake stopped: the last per-source figures, while the store is open.
  await started.sources.close();
  // Downstream of the store last: the detect stage's in-flight batch waits (in-process) for
  // its findings to be stored, so the store consumers must outlive it.
  for (const s of [...started.subscriptions].reverse()) await s.stop();
  await started.respond?.queue.close();
  await started.respond?.close();
  await shared.writers.close();
  await shared.bus.close();
  await shared.store.close();
  await shared.telemetry.shutdown();
  shared.logger.info('vigil stopped');
}
