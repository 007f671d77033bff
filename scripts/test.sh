#!/usr/bin/env bash
# The test command (`npm test`): installs and starts the real services (Kafka, Redis, PostgreSQL
# with pgvector) on loopback, builds a pinned Python venv for the OTLP end-to-end test, builds,
# type-checks, lints, then runs the whole suite against them — on today's clock, then a second
# time with the clock a year ahead, because a test that leans on a fixed date meets a TTL, a
# retention or a "last N days" sooner or later. VIGIL_TEST_YEAR_AHEAD=0
# leaves the second pass out (a quicker local run; CI runs both).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/services.sh up >/dev/null
eval "$(bash scripts/services.sh env)"
export KAFKA_BROKERS REDIS_URL PG_URL
if [[ "${CI:-}" == "true" ]]; then trap 'bash scripts/services.sh down >/dev/null 2>&1 || true' EXIT; fi

# The Python venv of test/e2e/otel-python.test.ts (a real OpenLLMetry-instrumented client): built on
# a fresh clone (~3 min, pip bounded by VIGIL_VENV_INSTALL_TIMEOUT), reused as it is afterwards.
echo "== python venv for the OTLP end-to-end test"
bash scripts/capture-spans.sh e2e-venv >/dev/null

echo "== build, type check, lint"
npm run --silent build
npx tsc -p tsconfig.json --noEmit
npx biome check src test scripts detectors

# Runs vitest with a JSON report in test-artifacts/$1.json and prints the closing count line.
run_suite() {
  local name=$1 status=0
  shift
  npx vitest run --reporter=default --reporter=json --outputFile.json="test-artifacts/$name.json" "$@" || status=$?
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
  ' "test-artifacts/$name.json" || true
  return $status
}

echo "== tests"
mkdir -p test-artifacts
status=0
run_suite vitest "$@" || status=$?
case ${VIGIL_TEST_YEAR_AHEAD:-1} in
  0 | 1) ;;
  *) echo "VIGIL_TEST_YEAR_AHEAD: 1 (run the year-ahead pass, the default) or 0" >&2; exit 2 ;;
esac
if [[ $status == 0 && ${VIGIL_TEST_YEAR_AHEAD:-1} == 1 ]]; then
  # The same suite with the wall clock of every Node process of the run 400 days ahead
  # (test/helpers/clock-ahead.cjs, preloaded through NODE_OPTIONS: Date and performance.timeOrigin;
  # it says why not libfaketime). The services and the embedded ClickHouse engine keep the real
  # clock: events placed relative to the test's clock land in the engine's future, where no TTL
  # reaches them. What this pass proves is that no test leans on a fixed date meeting the test's own
  # clock; test/unit/project/test-calendar.test.ts keeps fixed dates out of every test that stores events,
  # where the engine's clock would meet them. Left out of this pass: the benchmark smoke test (it
  # holds no dates; it is the slowest file and runs in the first pass), and the Python-instrumented
  # client's end-to-end test (the preload moves Node's clock only: its spans would arrive 400 days
  # old and be refused as past the retention, as they should), and the two tests bounded by time
  # rather than by date (the 60 s soak, the hostile bodies' event-loop bounds; no dates in either,
  # which test-calendar.test.ts keeps so): together they keep the whole command well under 30 min.
  echo "== tests, the clock a year ahead (+400 d)"
  export VIGIL_TEST_CLOCK_AHEAD_DAYS=400
  export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--require $PWD/test/helpers/clock-ahead.cjs"
  node -e 'console.log(`test clock: ${new Date().toISOString().slice(0, 16)}Z`)'
  run_suite vitest-year-ahead --exclude test/integration/bench-smoke.test.ts \
    --exclude test/e2e/otel-python.test.ts --exclude test/integration/fault-soak.test.ts \
    --exclude test/integration/security-hostile-input.test.ts "$@" || status=$?
fi
exit $status
