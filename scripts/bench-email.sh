#!/usr/bin/env bash
# bench-email.sh — the email throughput benchmark of docs/benchmarks.md
# (section "Email throughput", issue 13).
#
#   ./scripts/bench-email.sh
#
# Side by side in one run (bench/email does the work): the plain
# reused-connection loop, the delivery floor (read the row, send over one
# reused connection, mark it SENT) and one email worker process at
# concurrency 1, 10 and 50 — each against the go-smtp server in bench/email's
# own process (stores nothing) and against a mailpit this script starts
# (stores every message, as the issue measured), each compared with the plain
# loop and the floor on its own server — then 1/2/4 workers, the accept floor
# against POST /api/public/campaigns/:slug/send-email (wrk) with the route's
# steps timed one by one, the waiting time from the 202 to MAIL FROM with an
# idle worker, what idle polling costs Redis with 4 workers, and 50,000 sends
# with the uncached public campaign page measured before and after.
#
# It is a benchmark, not a test: it exits non-zero only when it cannot run.
#
# Uses its own database (changemaker_bench_email, dropped and recreated), its
# own Redis server (a free port from BENCH_REDIS_PORT, nothing persisted,
# stopped at the end), its own mailpit (free ports from BENCH_MAILPIT_PORT,
# its database in .bench/email, stopped at the end; scripts/install-deps.sh
# --bench installs it), holds /tmp/cm-bench.lock (flock) while it measures,
# and writes .bench/email/results.md.
#
# Environment: BENCH_EMAILS [2000] BENCH_ROUNDS [3] BENCH_BIG [50000]
#   BENCH_ACCEPT [10s] BENCH_WAIT_SAMPLES [60] BENCH_IDLE [10s]
#   BENCH_API_PORT [4950] BENCH_REDIS_PORT [4960]
#   BENCH_PG_URL [postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable]
#   BENCH_LOCK [/tmp/cm-bench.lock]
#   BENCH_STEPS [delivery,scaling,accept,waiting,polling,long] (the parts to run)
#   BENCH_SMTP [both] (the delivery runs' servers: both, go-smtp or mailpit)
#   BENCH_MAILPIT [mailpit on PATH, else $(go env GOPATH)/bin/mailpit]
#   BENCH_MAILPIT_PORT [4970] (SMTP; its HTTP API on the next free port)
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
SMTP=${BENCH_SMTP:-both}
PG_URL=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
LOCK=${BENCH_LOCK:-/tmp/cm-bench.lock}
DB_NAME=changemaker_bench_email
WORK=$ROOT/.bench/email

BENCH_NAME=bench-email.sh
# shellcheck source=scripts/lib/bench.sh
. "$ROOT/scripts/lib/bench.sh"
need go psql flock redis-server wrk
case "$SMTP" in both | go-smtp | mailpit) ;; *) die "BENCH_SMTP=$SMTP: want both, go-smtp or mailpit" ;; esac
# mailpit only for the delivery runs on it.
USE_MAILPIT=0
if [ "$SMTP" != go-smtp ] && [[ ",$STEPS," == *,delivery,* ]]; then
	USE_MAILPIT=1
	MAILPIT=${BENCH_MAILPIT:-$(command -v mailpit || echo "$(go env GOPATH)/bin/mailpit")}
	[ -x "$MAILPIT" ] || die "mailpit not found at $MAILPIT (scripts/install-deps.sh --bench, or BENCH_SMTP=go-smtp)"
fi

mkdir -p bin
rm -f "$WORK"/*.log
start_redis "${BENCH_REDIS_PORT:-4960}"
API_PORT=$(free_port "${BENCH_API_PORT:-4950}")
MAILPIT_ARGS=()
MAILPIT_VERSION=
if [ "$USE_MAILPIT" = 1 ]; then
	MAILPIT_SMTP=$(free_port "${BENCH_MAILPIT_PORT:-4970}")
	MAILPIT_HTTP=$(free_port $((MAILPIT_SMTP + 1)))
	MAILPIT_VERSION=$(go version -m "$MAILPIT" 2>/dev/null | awk '$1 == "mod" {print $3}')
	rm -f "$WORK"/mailpit.db*
	say "starting mailpit ${MAILPIT_VERSION:-?}: SMTP 127.0.0.1:$MAILPIT_SMTP, API 127.0.0.1:$MAILPIT_HTTP"
	# --max 0: keep every message (the default prunes beyond 500).
	"$MAILPIT" --smtp "127.0.0.1:$MAILPIT_SMTP" --listen "127.0.0.1:$MAILPIT_HTTP" --database "$WORK/mailpit.db" \
		--max 0 --quiet --disable-version-check --smtp-disable-rdns >"$WORK/mailpit.log" 2>&1 &
	MAILPIT_PID=$!
	PIDS+=("$MAILPIT_PID")
	for _ in $(seq 100); do port_open "$MAILPIT_SMTP" && port_open "$MAILPIT_HTTP" && break; sleep 0.1; done
	port_open "$MAILPIT_SMTP" || {
		cat "$WORK/mailpit.log" >&2
		die "mailpit did not listen on $MAILPIT_SMTP"
	}
	MAILPIT_ARGS=(-mailpit-api "http://127.0.0.1:$MAILPIT_HTTP" -mailpit-smtp "$MAILPIT_SMTP" -mailpit-pid "$MAILPIT_PID")
fi

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
		-steps "$STEPS" -logs "$WORK" -smtp "$([ "$USE_MAILPIT" = 1 ] && echo "$SMTP" || echo go-smtp)" \
		"${MAILPIT_ARGS[@]}" >"$WORK/table.md" || status=$?
	LOAD1=$(loadavg)
} 9>"$LOCK"
[ "$status" = 0 ] || die "bench/email failed (exit $status); see $WORK/*.log"
{
	cat "$WORK/table.md"
	echo "- Machine: $(awk -F': *' '/^model name/{print $2; exit}' /proc/cpuinfo), $(nproc) cores, $(awk '/^MemTotal/{printf "%.0f GiB", $2 / 1048576}' /proc/meminfo); $(uname -sr); shared with other users' builds and tests (load average $LOAD0 before, $LOAD1 after)"
	echo "- Software: $(go env GOVERSION), PostgreSQL $(psql "$PG_URL" -Atc 'SHOW server_version' | cut -d' ' -f1), Redis $(redis-server --version | awk '{print $3}' | tr -d v=)${MAILPIT_VERSION:+, mailpit $MAILPIT_VERSION}; build \`$VERSION\`; run $TIME"
} >"$WORK/results.md"
cat "$WORK/results.md"
say "results in $WORK/results.md; paste them into docs/benchmarks.md"
