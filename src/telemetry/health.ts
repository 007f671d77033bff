// Readiness: whether this process can do its work now, from the real state of what it depends
// on (the store answers a ping, the bus is connected and its consumers run, Redis answers). Each
// check gets a deadline: a dependency that hangs counts as down, and /readyz answers in time for
// the orchestrator's probe.

export type ReadinessCheck = () => Promise<boolean>;

export interface ReadinessReport {
  readonly ready: boolean;
  /** Dependency name → up. */
  readonly checks: Readonly<Record<string, boolean>>;
}

async function withDeadline(check: ReadinessCheck, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      check().catch(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** @param timeoutMs per check @defaultValue 2000 */
export function createReadiness(
  checks: Readonly<Record<string, ReadinessCheck | undefined>>,
  timeoutMs = 2_000,
): () => Promise<ReadinessReport> {
  const active = Object.entries(checks).filter((e): e is [string, ReadinessCheck] => e[1] !== undefined);
  return async () => {
    const results = await Promise.all(
      active.map(async ([name, c]) => [name, await withDeadline(c, timeoutMs)] as const),
    );
    return { ready: results.every(([, ok]) => ok), checks: Object.fromEntries(results) };
  };
}
