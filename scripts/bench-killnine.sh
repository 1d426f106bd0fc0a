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

say() { printf '==> %s\n' "$*" >&2; }
die() {
	printf 'bench-killnine.sh: %s\n' "$*" >&2
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
for tool in go psql flock redis-server; do have "$tool" || die "$tool is not installed"; done

PIDS=()
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$WORK/redis" bin
REDIS_PORT=$(free_port "${BENCH_REDIS_PORT:-4935}")
say "starting a Redis server of its own on 127.0.0.1:$REDIS_PORT"
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --dir "$WORK/redis" \
	--logfile "$WORK/redis.log" &
PIDS+=($!)
for _ in $(seq 50); do port_open "$REDIS_PORT" && break; sleep 0.1; done
port_open "$REDIS_PORT" || die "redis-server did not start; see $WORK/redis.log"

VERSION=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
say "building bin/changemaker ($VERSION) and bench/killnine"
go build -ldflags "-X main.version=$VERSION" -o bin/changemaker ./cmd/changemaker
go build -o "$WORK/killnine" ./bench/killnine

say "database $DB_NAME: drop and recreate"
psql "$PG_URL" -v ON_ERROR_STOP=1 -q -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" -c "CREATE DATABASE $DB_NAME" >/dev/null
DB_URL=$(printf '%s' "$PG_URL" | sed -E "s#^(postgres(ql)?://[^/]*)/[^?]*#\1/$DB_NAME#")

export APP_ENV=production DATABASE_URL=$DB_URL REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0 LOG_LEVEL=warn
# Fixed secrets: this database is thrown away.
export JWT_ACCESS_SECRET=bench-killnine-access-0123456789abcdefghijklmnop
export JWT_REFRESH_SECRET=bench-killnine-refresh-0123456789abcdefghijklmno
export ENCRYPTION_KEY=bench-killnine-encryption-0123456789abcdefghijklm
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
