#!/usr/bin/env bash
# bench-email.sh — the email throughput benchmark of docs/benchmarks.md
# (section "Email throughput", issue 13).
#
#   ./scripts/bench-email.sh
#
# Side by side in one run (bench/email does the work, against an SMTP server
# in its own process): the plain reused-connection loop, the delivery floor
# (read the row, send over one reused connection, mark it SENT), one email
# worker process at concurrency 1, 10 and 50, 1/2/4 workers, the accept floor
# against POST /api/public/campaigns/:slug/send-email (wrk) with the route's
# steps timed one by one, the waiting time from the 202 to MAIL FROM with an
# idle worker, what idle polling costs Redis with 4 workers, and 50,000 sends
# with the uncached public campaign page measured before and after.
#
# It is a benchmark, not a test: it exits non-zero only when it cannot run.
#
# Uses its own database (changemaker_bench_email, dropped and recreated), its
# own Redis server (a free port from BENCH_REDIS_PORT, nothing persisted,
# stopped at the end), holds /tmp/cm-bench.lock (flock) while it measures, and
# writes .bench/email/results.md.
#
# Environment: BENCH_EMAILS [2000] BENCH_ROUNDS [3] BENCH_BIG [50000]
#   BENCH_ACCEPT [10s] BENCH_WAIT_SAMPLES [60] BENCH_IDLE [10s]
#   BENCH_API_PORT [4950] BENCH_REDIS_PORT [4960]
#   BENCH_PG_URL [postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable]
#   BENCH_LOCK [/tmp/cm-bench.lock]
#   BENCH_STEPS [delivery,scaling,accept,waiting,polling,long] (the parts to run)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then PATH=$PATH:/usr/local/go/bin; fi

EMAILS=${BENCH_EMAILS:-2000}
ROUNDS=${BENCH_ROUNDS:-3}
BIG=${BENCH_BIG:-50000}
ACCEPT=${BENCH_ACCEPT:-10s}
WAIT_SAMPLES=${BENCH_WAIT_SAMPLES:-60}
IDLE=${BENCH_IDLE:-10s}
STEPS=${BENCH_STEPS:-delivery,scaling,accept,waiting,polling,long}
PG_URL=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
LOCK=${BENCH_LOCK:-/tmp/cm-bench.lock}
DB_NAME=changemaker_bench_email
WORK=$ROOT/.bench/email

BENCH_NAME=bench-email.sh
# shellcheck source=scripts/lib/bench.sh
. "$ROOT/scripts/lib/bench.sh"
need go psql flock redis-server wrk

mkdir -p bin
rm -f "$WORK"/*.log
start_redis "${BENCH_REDIS_PORT:-4960}"
API_PORT=$(free_port "${BENCH_API_PORT:-4950}")

build_binaries email

fresh_database "$DB_NAME"

migrate_production email

say "waiting for $LOCK"
status=0
{
	flock 9
	LOAD0=$(loadavg)
	TIME=$(date -u '+%Y-%m-%d %H:%M UTC')
	"$WORK/email" -bin bin/changemaker -n "$EMAILS" -rounds "$ROUNDS" -big "$BIG" -accept "$ACCEPT" \
		-wait-samples "$WAIT_SAMPLES" -idle "$IDLE" -api-port "$API_PORT" -redis-pid "$REDIS_PID" \
		-steps "$STEPS" -logs "$WORK" >"$WORK/table.md" || status=$?
	LOAD1=$(loadavg)
} 9>"$LOCK"
[ "$status" = 0 ] || die "bench/email failed (exit $status); see $WORK/*.log"
{
	cat "$WORK/table.md"
	echo "- Machine: $(awk -F': *' '/^model name/{print $2; exit}' /proc/cpuinfo), $(nproc) cores, $(awk '/^MemTotal/{printf "%.0f GiB", $2 / 1048576}' /proc/meminfo); $(uname -sr); shared with other users' builds and tests (load average $LOAD0 before, $LOAD1 after)"
	echo "- Software: $(go env GOVERSION), PostgreSQL $(psql "$PG_URL" -Atc 'SHOW server_version' | cut -d' ' -f1), Redis $(redis-server --version | awk '{print $3}' | tr -d v=); build \`$VERSION\`; run $TIME"
} >"$WORK/results.md"
cat "$WORK/results.md"
say "results in $WORK/results.md; paste them into docs/benchmarks.md"
