#!/usr/bin/env bash
# bench-killnine.sh — the kill -9 benchmark of docs/benchmarks.md (section
# "Kill -9 during sends").
#
#   ./scripts/bench-killnine.sh
#
# Queues BENCH_KILL_EMAILS campaign emails (rows and tasks, as send-email
# leaves them), runs one email worker process (bin/changemaker worker
# --queues email), kills it with SIGKILL three times while it sends and
# restarts it, enqueues the email sweep every 5 s, and reports what an
# in-process SMTP server received (bench/killnine): lost (must be 0),
# duplicates against the send tasks in flight at the kills (target: at most
# 10%), and the window from the server's 250 to the row's SENT commit.
#
# It exits non-zero when it cannot run AND when a target is missed.
#
# Uses its own database (changemaker_bench_killnine, dropped and recreated),
# its own Redis server (a free port from BENCH_REDIS_PORT, nothing persisted,
# stopped at the end), holds /tmp/cm-bench.lock (flock) while it runs, and
# writes .bench/killnine/results.md.
#
# Environment: BENCH_KILL_EMAILS [1000] BENCH_KILLS [3] BENCH_WORKER_CONCURRENCY [10]
#   BENCH_KILL_JITTER [200ms] (each kill comes a random time up to this long
#   after 250, 500, 750 deliveries, so it lands anywhere in the sends in flight)
#   BENCH_PG_URL [postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable]
#   BENCH_REDIS_PORT [4935] BENCH_LOCK [/tmp/cm-bench.lock]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then PATH=$PATH:/usr/local/go/bin; fi

EMAILS=${BENCH_KILL_EMAILS:-1000}
KILLS=${BENCH_KILLS:-3}
WORKER_CONC=${BENCH_WORKER_CONCURRENCY:-10}
JITTER=${BENCH_KILL_JITTER:-200ms}
PG_URL=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
LOCK=${BENCH_LOCK:-/tmp/cm-bench.lock}
DB_NAME=changemaker_bench_killnine
WORK=$ROOT/.bench/killnine

BENCH_NAME=bench-killnine.sh
# shellcheck source=scripts/lib/bench.sh
. "$ROOT/scripts/lib/bench.sh"
need go psql flock redis-server

mkdir -p bin
start_redis "${BENCH_REDIS_PORT:-4935}"

build_binaries killnine

fresh_database "$DB_NAME"

migrate_production killnine

say "waiting for $LOCK"
status=0
{
	flock 9
	LOAD0=$(loadavg)
	TIME=$(date -u '+%Y-%m-%d %H:%M UTC')
	"$WORK/killnine" -bin bin/changemaker -n "$EMAILS" -kills "$KILLS" -concurrency "$WORKER_CONC" -jitter "$JITTER" \
		-log "$WORK/worker.log" >"$WORK/table.md" || status=$?
	LOAD1=$(loadavg)
} 9>"$LOCK"
[ -s "$WORK/table.md" ] || die "bench/killnine did not run (exit $status); see $WORK/worker.log"
{
	cat "$WORK/table.md"
	echo
	echo "- Machine: $(awk -F': *' '/^model name/{print $2; exit}' /proc/cpuinfo), $(nproc) cores, $(awk '/^MemTotal/{printf "%.0f GiB", $2 / 1048576}' /proc/meminfo); $(uname -sr); shared with other users' builds and tests (load average $LOAD0 before, $LOAD1 after)"
	echo "- Software: $(go env GOVERSION), PostgreSQL $(psql "$PG_URL" -Atc 'SHOW server_version' | cut -d' ' -f1), Redis $(redis-server --version | awk '{print $3}' | tr -d v=); build \`$VERSION\`; run $TIME"
} >"$WORK/results.md"
cat "$WORK/results.md"
say "results in $WORK/results.md; paste them into docs/benchmarks.md"
exit "$status"
