#!/usr/bin/env bash
# bench-import.sh — a National Address Register import end to end (upload
# over HTTP to DONE) beside `psql \copy` of the same Address file into a bare
# table of text columns, in the same run against the same Postgres server.
# Results and method: docs/benchmarks.md, section "NAR import".
#
#   ./scripts/bench-import.sh            # IMPORT_BENCH_ROWS=200000 by default
#   IMPORT_BENCH_ROWS=50000 ./scripts/bench-import.sh
#   IMPORT_BENCH_LOADER_LIST="2" ./scripts/bench-import.sh   # IMPORT_LOADERS values to run ("1 2")
#
# It runs BenchmarkNARImport (api/mapimports/bench_test.go) once: the
# benchmark generates an Address_35.csv and a Location_35.csv of N addresses
# in the 2026 layout (one building in four has four apartments, one in ten
# has no Location row, so its point comes from BG_X/BG_Y through the Lambert
# inverse), starts the main API on a loopback port and one import worker
# (concurrency 2) on a fresh test database (internal/testenv), times the
# \copy, then POSTs both files to /api/map/imports/nar and polls the import
# every 20 ms until DONE. It reports import-rows/s, copy-rows/s and their
# ratio (target: import/copy at least 0.5), and the schema's floor: the
# imported rows exported and put back by \copy into map_locations and
# map_units with all their indexes (schema-copy-rows/s, schema-copy/copy).
#
# Not a test: it fails only when it cannot run (no psql, no Postgres or
# Redis on 127.0.0.1). Every timed run holds the lock $BENCH_LOCK (flock,
# shared with the other benchmarks) and records the load average around it.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then PATH=$PATH:/usr/local/go/bin; fi
command -v psql >/dev/null || { echo "bench-import.sh: psql is needed for the \\copy reference" >&2; exit 1; }

export IMPORT_BENCH_ROWS=${IMPORT_BENCH_ROWS:-200000}
BENCH_LOCK=${BENCH_LOCK:-/tmp/changemaker-bench.lock}

for loaders in ${IMPORT_BENCH_LOADER_LIST:-1 2}; do
	echo "NAR import, $IMPORT_BENCH_ROWS rows, IMPORT_LOADERS=$loaders; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
	IMPORT_BENCH_LOADERS=$loaders flock "$BENCH_LOCK" go test -run '^$' -bench '^BenchmarkNARImport$' -benchtime 1x \
		-timeout 60m ./api/mapimports/ | grep -E '^(Benchmark|ok|FAIL|PASS)'
	echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
done
