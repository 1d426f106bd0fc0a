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

say() { printf '==> %s\n' "$*" >&2; }
die() {
	printf 'bench-email.sh: %s\n' "$*" >&2
	exit 2
}
have() { command -v "$1" >/dev/null 2>&1; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
	local p=$1
	while port_open "$p"; do p=$((p + 1)); done
	echo "$p"
}
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
for tool in go psql flock redis-server wrk; do have "$tool" || die "$tool is not installed"; done

PIDS=()
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$WORK/redis" bin
rm -f "$WORK"/*.log
REDIS_PORT=$(free_port "${BENCH_REDIS_PORT:-4960}")
API_PORT=$(free_port "${BENCH_API_PORT:-4950}")
say "starting a Redis server of its own on 127.0.0.1:$REDIS_PORT"
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --dir "$WORK/redis" \
	--logfile "$WORK/redis.log" &
REDIS_PID=$!
PIDS+=("$REDIS_PID")
for _ in $(seq 50); do port_open "$REDIS_PORT" && break; sleep 0.1; done
port_open "$REDIS_PORT" || die "redis-server did not start; see $WORK/redis.log"

VERSION=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
say "building bin/changemaker ($VERSION) and bench/email"
go build -ldflags "-X main.version=$VERSION" -o bin/changemaker ./cmd/changemaker
go build -o "$WORK/email" ./bench/email

say "database $DB_NAME: drop and recreate"
psql "$PG_URL" -v ON_ERROR_STOP=1 -q -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" -c "CREATE DATABASE $DB_NAME" >/dev/null
DB_URL=$(printf '%s' "$PG_URL" | sed -E "s#^(postgres(ql)?://[^/]*)/[^?]*#\1/$DB_NAME#")

export APP_ENV=production DATABASE_URL=$DB_URL REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0 LOG_LEVEL=warn
# Fixed secrets: this database is thrown away.
export JWT_ACCESS_SECRET=bench-email-access-0123456789abcdefghijklmnopqr
export JWT_REFRESH_SECRET=bench-email-refresh-0123456789abcdefghijklmnopq
export ENCRYPTION_KEY=bench-email-encryption-0123456789abcdefghijklmno
bin/changemaker migrate up >"$WORK/migrate.log" 2>&1 || {
	cat "$WORK/migrate.log" >&2
	die "migrate up failed"
}

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
