#!/usr/bin/env bash
# The test command (`npm test`): installs and starts the real services (Kafka, Redis, PostgreSQL
# with pgvector) on loopback, builds, type-checks, lints, then runs the whole suite against them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/services.sh up >/dev/null
eval "$(bash scripts/services.sh env)"
export KAFKA_BROKERS REDIS_URL PG_URL
if [[ "${CI:-}" == "true" ]]; then trap 'bash scripts/services.sh down >/dev/null 2>&1 || true' EXIT; fi

echo "== build, type check, lint"
npm run --silent build
npx tsc -p tsconfig.json --noEmit
npx biome check src test scripts detectors

echo "== tests"
mkdir -p test-artifacts
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=test-artifacts/vitest.json "$@" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync("test-artifacts/vitest.json", "utf8"));
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
' || true
exit $status
