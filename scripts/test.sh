#!/usr/bin/env bash
# Runs every test suite after the same set-up as the dashboard (plus chromium and
# redis-server): vitest (protocol, server, runner with the real engine), the engine's
# pytest under the engine's Python (./.venv), and end-to-end journeys in Debian's chromium.
# .ci/run calls exactly this. Ends with one line: "certprune: N passed, N failed".
set -uo pipefail
export NEXT_TELEMETRY_DISABLED=1
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test || exit 1
mkdir -p test-results
rm -f test-results/*.json test-results/*.xml

python=${CERTPRUNE_PYTHON:-$PWD/.venv/bin/python}
status=0
started=$(date +%s)

echo "== vitest: protocol and server"
npx vitest run --reporter=default --reporter=json --outputFile=test-results/vitest.json || status=1

echo "== pytest: engine"
(cd engine && "$python" -m pytest -p no:cacheprovider --junitxml=../test-results/pytest.xml -o junit_family=xunit2 tests) || status=1

echo "== end to end: chromium"
npx vitest run --config vitest.e2e.config.ts --reporter=default --reporter=json --outputFile=test-results/e2e.json || status=1

echo "== all suites took $(( $(date +%s) - started )) s"
node scripts/test-summary.js test-results || status=1
exit $status
