#!/usr/bin/env bash
# `make test`: the format lint, then every test against a private PostgreSQL cluster, which is stopped afterwards,
# pass or fail, so no server outlives the run (a server left behind in a deleted checkout removes the socket of the
# next one at the same path when it notices and exits).
#
#   scripts/test.sh PORT [swift test options]
#
# A failing run ends by repeating the lines that say what failed: in a log of several hundred lines, CI keeps only
# the end, and the failure itself is printed when it happens, far above.
set -uo pipefail
cd "$(dirname "$0")/.."
port=${1:?usage: test.sh PORT [swift test options]}
shift

# The format first: it takes two seconds and names every line out of place (`make format` fixes them).
if ! swift format lint --strict --recursive Sources Tests Benchmarks Plugins Package.swift; then
    echo
    echo "What failed: swift format lint (run make format)"
    exit 1
fi

# Selenium drives Chromium for the HTML report's test, from the project's virtual environment (.venv, untracked).
selenium=4.38.0
if ! .venv/bin/python -c "import selenium, sys; sys.exit(selenium.__version__ != '$selenium')" 2>/dev/null; then
    { [ -x .venv/bin/python ] || python3 -m venv .venv; } && .venv/bin/pip install --quiet "selenium==$selenium" || exit 1
fi

url=$(scripts/pg.sh start test "$port") || exit 1
log=$(mktemp)
SIGHTLINE_TEST_DATABASE_URL="$url" SIGHTLINE_TEST_PYTHON="$PWD/.venv/bin/python" swift test "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
scripts/pg.sh stop test >/dev/null
if [ "$status" -ne 0 ]; then
    echo
    echo "What failed (swift test exited with $status):"
    grep -E "✘|error:|recorded an issue|Fatal error|Caught signal|Exited with" "$log" | tail -n 60
fi
rm -f "$log"
exit "$status"
