// What the store would teach a bootstrapping detector about one identity: the IdentityHistory that
// identityHistory() reads from events_1m and the events, computed from the events (the definition
// lives in bench/detect/history-of.ts, which the quality benchmark's restart uses too).
import { historyOf } from '../../bench/detect/history-of.js';
import type { DetectorRuntime, IdentityHistory } from '../../src/detect/index.js';
import type { AccessEvent } from '../../src/model/index.js';
import { makeEvent } from './factories.js';

export { historyOf };

/**
 * Bootstraps each of `actors` into `rt` at `before` from what the store would answer for `events`
 * (as the detect stage does after a restart without checkpoints); `edit` may change a history
 * first (e.g. drop a part an older store reader would not return). Returns `rt`.
 */
export function bootstrapFrom(
  rt: DetectorRuntime,
  events: readonly AccessEvent[],
  opts: {
    tenant: string;
    actors: readonly string[];
    before: number;
    edit?: (h: IdentityHistory) => IdentityHistory;
  },
): DetectorRuntime {
  for (const actor of opts.actors) {
    const h = historyOf(events, opts.tenant, actor, opts.before);
    rt.bootstrap(
      makeEvent({ tenant: opts.tenant, actor, time: opts.before }),
      opts.edit ? opts.edit(h) : h,
      opts.before,
    );
  }
  return rt;
}
