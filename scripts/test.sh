#!/usr/bin/env bash
# The whole test suite, from a fresh clone: install, build (tsc -b), install the interop peers, type-check
# tests, run vitest (unit, simulation, RFC vectors, interop), and print
# a plain "N passed, N failed" closing line.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/peers.sh
node_modules/.bin/tsc -p tsconfig.test.json
mkdir -p .tmp
status=0
# A guard: the suite takes ~2 minutes here. Once a vitest worker sat idle and the run never ended (not reproduced
# since); a run that has not finished after 10 minutes is stopped and, once, started again. Failing tests are not
# retried: only a runner that hung.
run_vitest() {
  timeout --kill-after=30 600 node_modules/.bin/vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest.json "$@"
}
run_vitest "$@" || status=$?
if [ "$status" = 124 ] || [ "$status" = 137 ]; then
  echo "test.sh: vitest did not finish within 10 minutes; running the suite once more" >&2
  status=0
  run_vitest "$@" || status=$?
fi
node scripts/summary.mjs .tmp/vitest.json || true
exit "$status"
