#!/usr/bin/env bash
# bench-influence.sh — the influence benchmarks of docs/benchmarks.md
# (section "Influence").
#
#   ./scripts/bench-influence.sh
#
# Measures, on this machine:
#   a. GET /api/public/campaigns/:slug of the main API (full middleware chain,
#      access log written to /dev/null) with wrk, as configured by default
#      (the page reused for PUBLIC_CAMPAIGN_CACHE_TTL=1s) and with
#      PUBLIC_CAMPAIGN_CACHE_TTL=0 (one single-row read per request), next to
#      a Fastify 5 + pg server (bench/fastify-pg) doing that same single-row
#      read per request and answering the same bytes; each round runs the
#      three back to back;
#   b. POST /api/public/campaigns/:slug/send-email accepted/s (202s) with wrk:
#      validation, two rate-limit counters in Redis, the recipient check in
#      Postgres, the row insert and the enqueue, per request;
#   c. end-to-end emails/s from one email worker process to mailpit (rows
#      QUEUED and tasks enqueued first, then the worker started; the rate is
#      taken over the rows' sent_at), against how fast the same mailpit
#      accepts the same messages from a plain Go loop (bench/influence
#      smtp-loop), sequential and with the worker's concurrency.
# It prints a markdown table and writes it to .bench/influence/results.md;
# docs/benchmarks.md gets the numbers by hand, between its influence markers.
#
# Every timed run holds /tmp/cm-bench.lock (flock), so benchmarks of
# different engineers never overlap on the machine; the load average is
# recorded before and after each run.
#
# It is a benchmark, not a test: it exits non-zero only when it cannot run.
#
# Uses its own database (changemaker_bench_influence, dropped and recreated),
# the binary bin/changemaker (built here), a Redis server of its own (started
# on a free port from BENCH_REDIS_PORT, nothing persisted, stopped at the end;
# with BENCH_REDIS_URL it uses that one instead, and refuses to run when
# another asynq worker is registered on that database or its email queue
# holds tasks, since the bench's tasks carry the bench database's row IDs;
# a development instance on the default Redis never sees them) and mailpit from $(go env GOPATH)/bin
# (go install github.com/axllent/mailpit@v1.33.1). Every process it starts is
# stopped on exit; the send-email tasks it leaves are deleted.
#
# Environment (defaults in brackets):
#   BENCH_DURATION [15s] BENCH_WARMUP [3s] BENCH_THREADS [2] BENCH_CONNS [50]
#   BENCH_ROUNDS [3]            rounds of every measurement; the median is reported
#   BENCH_SEND_DURATION [10s]   each send-email run (its rows and tasks pile up)
#   BENCH_EMAILS [2000]         emails per end-to-end run
#   BENCH_WORKER_CONCURRENCY [10]  the worker's --concurrency (its default)
#   BENCH_API_PORT [4910] BENCH_FASTIFY_PORT [4911] BENCH_SMTP_PORT [1125]
#   BENCH_PG_URL [postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable]
#   BENCH_REDIS_URL [unset: a redis-server of its own]  BENCH_REDIS_PORT [4915]
#   BENCH_MAILPIT [$(go env GOPATH)/bin/mailpit]
#   BENCH_SKIP_FASTIFY [0]  BENCH_SKIP_E2E [0]  BENCH_SKIP_HTTP [0] (only c)
#   BENCH_LOCK [/tmp/cm-bench.lock]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then PATH=$PATH:/usr/local/go/bin; fi

DURATION=${BENCH_DURATION:-15s}
WARMUP=${BENCH_WARMUP:-3s}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNS:-50}
ROUNDS=${BENCH_ROUNDS:-3}
SEND_DURATION=${BENCH_SEND_DURATION:-10s}
EMAILS=${BENCH_EMAILS:-2000}
WORKER_CONC=${BENCH_WORKER_CONCURRENCY:-10}
PG_URL=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
REDIS_URL_BENCH=${BENCH_REDIS_URL:-}
SKIP_FASTIFY=${BENCH_SKIP_FASTIFY:-0}
SKIP_E2E=${BENCH_SKIP_E2E:-0}
SKIP_HTTP=${BENCH_SKIP_HTTP:-0}
[ "$SKIP_HTTP" != 1 ] || SKIP_FASTIFY=1
LOCK=${BENCH_LOCK:-/tmp/cm-bench.lock}
DB_NAME=changemaker_bench_influence
DB_MAX_CONNS=20 # the API's default; the Fastify pool gets the same
TARGET_RATIO=2
WORK=$ROOT/.bench/influence # .bench/ is ignored by git

say() { printf '==> %s\n' "$*" >&2; }
die() {
	printf 'bench-influence.sh: %s\n' "$*" >&2
	exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
	local p=$1
	while port_open "$p"; do p=$((p + 1)); done
	echo "$p"
}
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

for tool in go wrk curl psql flock; do have "$tool" || die "$tool is not installed"; done
MAILPIT=${BENCH_MAILPIT:-$(go env GOPATH)/bin/mailpit}
if [ "$SKIP_E2E" != 1 ]; then
	[ -x "$MAILPIT" ] || die "mailpit not found at $MAILPIT (go install github.com/axllent/mailpit@v1.33.1, or BENCH_SKIP_E2E=1)"
fi
if [ "$SKIP_FASTIFY" != 1 ]; then
	have node && have npm || die "Node.js 20+ and npm are needed for the Fastify baseline (or BENCH_SKIP_FASTIFY=1)"
	[ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ] || die "Fastify 5 needs Node.js 20+"
fi

# ---------------------------------------------------------------------------
# Processes are stopped on any exit; the send-email tasks are dropped.

PIDS=()
stop_pid() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	if [ -n "${HELPER:-}" ] && [ -n "${DB_URL:-}" ]; then
		DATABASE_URL=$DB_URL REDIS_URL=$REDIS_URL_BENCH "$HELPER" drop-queued >/dev/null 2>&1 || true
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_http() { # URL SECONDS PID
	local end=$((SECONDS + $2))
	until curl -fsS -o /dev/null "$1" 2>/dev/null; do
		kill -0 "$3" 2>/dev/null || return 1
		((SECONDS < end)) || return 1
		sleep 0.2
	done
}
wait_port() { # PORT SECONDS PID
	local end=$((SECONDS + $2))
	until port_open "$1"; do
		kill -0 "$3" 2>/dev/null || return 1
		((SECONDS < end)) || return 1
		sleep 0.1
	done
}

# ---------------------------------------------------------------------------
# CPU accounting, as scripts/bench.sh does it: a process's utime+stime from
# /proc, the whole machine's busy time from /proc/stat. Postgres and Redis do
# part of the work measured here, so their processes are counted apart ("db":
# every postgres and redis-server process on the machine, which includes
# other people's queries); "other" is what the rest of the machine used. All
# in % of one core over the run's wall time.

CLK_TCK=$(getconf CLK_TCK)
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
db_ticks() {
	local p t=0
	for p in $(pgrep -x postgres) $(pgrep -x redis-server); do t=$((t + $(proc_ticks "$p"))); done
	echo "$t"
}
machine_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat; }
now() { date +%s.%N; }
pct() { awk -v a="$1" -v b="$2" -v w="$3" -v hz="$CLK_TCK" 'BEGIN{printf "%.0f", 100 * (b - a) / hz / w}'; }

# run_wrk LABEL URL SERVER_PID DURATION [wrk args...] — sets R_RPS R_P50 R_P99
# R_ERR R_SRV R_WRK R_DB R_OTHER R_LOAD0 R_LOAD1. The caller holds the lock.
run_wrk() {
	local label=$1 url=$2 pid=$3 dur=$4
	shift 4
	local out=$WORK/wrk-$label.txt tfile=$WORK/time-$label.txt
	say "$label: warm-up $WARMUP"
	wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" "$@" "$url" >/dev/null
	R_LOAD0=$(loadavg)
	local s0 s1 m0 m1 w0 w1 d0 d1
	s0=$(proc_ticks "$pid")
	d0=$(db_ticks)
	m0=$(machine_ticks)
	w0=$(now)
	say "$label: wrk -t$THREADS -c$CONNS -d$dur --latency $url"
	local TIMEFORMAT='%U %S'
	{ time wrk -t"$THREADS" -c"$CONNS" -d"$dur" --latency "$@" "$url" >"$out" 2>&1; } 2>"$tfile"
	w1=$(now)
	s1=$(proc_ticks "$pid")
	d1=$(db_ticks)
	m1=$(machine_ticks)
	R_LOAD1=$(loadavg)
	cat "$out" >&2
	R_RPS=$(awk '/^Requests\/sec:/{printf "%.0f", $2}' "$out")
	R_P50=$(awk '$1 == "50%" {print $2}' "$out")
	R_P99=$(awk '$1 == "99%" {print $2}' "$out")
	R_ERR=$(awk '/Non-2xx or 3xx responses:/{n += $NF} /Socket errors:/{gsub(/,/, ""); n += $4 + $6 + $8 + $10} END{print n + 0}' "$out")
	[ -n "$R_RPS" ] && [ -n "$R_P99" ] || die "$label: could not read wrk's output ($out)"
	read -r R_SRV R_WRK R_DB R_OTHER < <(awk -v s0="$s0" -v s1="$s1" -v b0="$m0" -v b1="$m1" -v w0="$w0" -v w1="$w1" \
		-v d0="$d0" -v d1="$d1" -v hz="$CLK_TCK" -v t="$(cat "$tfile")" 'BEGIN {
			wall = w1 - w0; split(t, tt, " ")
			srv = (s1 - s0) / hz; wrk = tt[1] + tt[2]; all = (b1 - b0) / hz; db = (d1 - d0) / hz
			if (db < 0) db = 0
			other = all - srv - wrk - db; if (other < 0) other = 0
			printf "%.0f %.0f %.0f %.0f\n", 100 * srv / wall, 100 * wrk / wall, 100 * db / wall, 100 * other / wall }')
	[ "$R_ERR" = 0 ] || say "$label: WARNING: $R_ERR non-2xx responses or socket errors"
}

RESULTS=$WORK/results.tsv
record() { # KIND ROUND VALUE P50 P99 ERR CPU1 CPU2 DB OTHER LOAD0 LOAD1
	local IFS=$'\t'
	printf '%s\n' "$*" >>"$RESULTS"
}

# ---------------------------------------------------------------------------
# Build, database, API, baseline.

mkdir -p "$WORK" bin
: >"$RESULTS"
if [ -z "$REDIS_URL_BENCH" ]; then
	have redis-server || die "redis-server is not installed (scripts/install-deps.sh), or set BENCH_REDIS_URL"
	REDIS_PORT=$(free_port "${BENCH_REDIS_PORT:-4915}")
	mkdir -p "$WORK/redis"
	say "starting a Redis server of its own on 127.0.0.1:$REDIS_PORT"
	redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --dir "$WORK/redis" \
		--logfile "$WORK/redis.log" &
	PIDS+=($!)
	wait_port "$REDIS_PORT" 10 "$!" || die "redis-server did not start; see $WORK/redis.log"
	REDIS_URL_BENCH=redis://127.0.0.1:$REDIS_PORT/0
fi
VERSION=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
say "building bin/changemaker ($VERSION) and the bench helper"
go build -ldflags "-X main.version=$VERSION" -o bin/changemaker ./cmd/changemaker
go build -o "$WORK/influence" ./bench/influence
BIN=$ROOT/bin/changemaker
HELPER=$WORK/influence

say "database $DB_NAME: drop and recreate"
psql "$PG_URL" -v ON_ERROR_STOP=1 -q -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" -c "CREATE DATABASE $DB_NAME" >/dev/null
DB_URL=$(printf '%s' "$PG_URL" | sed -E "s#^(postgres(ql)?://[^/]*)/[^?]*#\1/$DB_NAME#")

export APP_ENV=production
export DATABASE_URL=$DB_URL
export REDIS_URL=$REDIS_URL_BENCH
# Fixed secrets: this database and its tokens are thrown away.
export JWT_ACCESS_SECRET=bench-influence-access-0123456789abcdefghijklmn
export JWT_REFRESH_SECRET=bench-influence-refresh-0123456789abcdefghijklm
export ENCRYPTION_KEY=bench-influence-encryption-0123456789abcdefghijk
export ACCESS_LOG=/dev/null
export LOG_LEVEL=warn
export DB_MAX_CONNS
# The send-email limits are counted (two Redis round trips per request) but
# never reached: wrk sends from one address.
export EMAIL_SEND_RATE_LIMIT=1000000000
export WORKER_METRICS_PORT=0

"$BIN" migrate up >"$WORK/migrate.log" 2>&1 || {
	cat "$WORK/migrate.log" >&2
	die "migrate up failed"
}
SLUG=$("$HELPER" setup)
"$HELPER" precheck

TIME=$(date -u '+%Y-%m-%d %H:%M UTC')
LOAD_START=$(loadavg)
GO_BYTES=''
if [ "$SKIP_HTTP" != 1 ]; then
	API_PORT_BENCH=$(free_port "${BENCH_API_PORT:-4910}")
	export API_PORT=$API_PORT_BENCH PUBLIC_URL=http://127.0.0.1:$API_PORT_BENCH
	say "starting the main API on 127.0.0.1:$API_PORT_BENCH"
	"$BIN" api >"$WORK/api.log" 2>&1 &
	API_PID=$!
	PIDS+=("$API_PID")
	API_URL=http://127.0.0.1:$API_PORT_BENCH/api/public/campaigns/$SLUG
	wait_http "$API_URL" 30 "$API_PID" || {
		cat "$WORK/api.log" >&2
		die "the main API did not answer $API_URL"
	}
	GO_BODY=$(curl -fsS "$API_URL")

	# A second API process that reads the campaign on every request.
	NOCACHE_PORT=$(free_port $((API_PORT_BENCH + 2)))
	say "starting the main API with PUBLIC_CAMPAIGN_CACHE_TTL=0 on 127.0.0.1:$NOCACHE_PORT"
	API_PORT=$NOCACHE_PORT PUBLIC_CAMPAIGN_CACHE_TTL=0 "$BIN" api >"$WORK/api-nocache.log" 2>&1 &
	NOCACHE_PID=$!
	PIDS+=("$NOCACHE_PID")
	NOCACHE_URL=http://127.0.0.1:$NOCACHE_PORT/api/public/campaigns/$SLUG
	wait_http "$NOCACHE_URL" 30 "$NOCACHE_PID" || {
		cat "$WORK/api-nocache.log" >&2
		die "the uncached main API did not answer $NOCACHE_URL"
	}
	[ "$(curl -fsS "$NOCACHE_URL")" = "$GO_BODY" ] || die "the uncached API's body differs from the cached one's"
	GO_BYTES=$(curl -fsS -D - "$API_URL" | wc -c) # headers and body

	FASTIFY_VERSION='' PG_VERSION='' FASTIFY_BYTES=''
	if [ "$SKIP_FASTIFY" != 1 ]; then
		(
			cd bench/fastify-pg
			if [ ! -f node_modules/pg/package.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
				say "installing Fastify and pg (npm ci in bench/fastify-pg)"
				npm ci --no-audit --no-fund --loglevel=error >&2
			fi
		)
		FASTIFY_VERSION=$(node -p 'require("./bench/fastify-pg/node_modules/fastify/package.json").version')
		PG_VERSION=$(node -p 'require("./bench/fastify-pg/node_modules/pg/package.json").version')
		FASTIFY_PORT=$(free_port "${BENCH_FASTIFY_PORT:-4911}")
		say "starting Fastify $FASTIFY_VERSION + pg $PG_VERSION on 127.0.0.1:$FASTIFY_PORT"
		PORT=$FASTIFY_PORT PG_POOL_MAX=$DB_MAX_CONNS NODE_ENV=production node bench/fastify-pg/server.js >"$WORK/fastify.log" 2>&1 &
		FASTIFY_PID=$!
		PIDS+=("$FASTIFY_PID")
		FASTIFY_URL=http://127.0.0.1:$FASTIFY_PORT/api/public/campaigns/$SLUG
		wait_http "$FASTIFY_URL" 30 "$FASTIFY_PID" || {
			cat "$WORK/fastify.log" >&2
			die "Fastify did not answer $FASTIFY_URL"
		}
		[ "$(curl -fsS "$FASTIFY_URL")" = "$GO_BODY" ] || {
			printf 'Go:      %s\nFastify: %s\n' "$GO_BODY" "$(curl -fsS "$FASTIFY_URL")" >&2
			die "Fastify's body differs from the main API's"
		}
		FASTIFY_BYTES=$(curl -fsS -D - "$FASTIFY_URL" | wc -c)
	fi

	# send-email: one recipient, the bench MP, from an address that changes per request.
	cat >"$WORK/send-email.lua" <<'EOF'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local n = 0
request = function()
  n = n + 1
  local body = string.format('{"senderName":"Bench Sender","senderEmail":"sender%d@bench.invalid",' ..
    '"postalCode":"T5K 2J1","recipients":[{"email":"mp@bench.invalid"}]}', n)
  return wrk.format(nil, nil, nil, body)
end
EOF
	SEND_URL=http://127.0.0.1:$API_PORT_BENCH/api/public/campaigns/$SLUG/send-email
	code=$(curl -sS -o "$WORK/send-check.json" -w '%{http_code}' -H 'Content-Type: application/json' \
		-d '{"senderName":"Check","senderEmail":"check@bench.invalid","postalCode":"T5K2J1","recipients":[{"email":"mp@bench.invalid"}]}' "$SEND_URL")
	[ "$code" = 202 ] || die "send-email answered $code: $(cat "$WORK/send-check.json")"

	# ---------------------------------------------------------------------------
	# a and b: ROUNDS rounds; GET on the API and on Fastify back to back under one
	# lock, then send-email under its own.

	for ((round = 1; round <= ROUNDS; round++)); do
		say "round $round of $ROUNDS: GET (waiting for $LOCK)"
		{
			flock 9
			run_wrk "get-$round" "$API_URL" "$API_PID" "$DURATION"
			record get "$round" "$R_RPS" "$R_P50" "$R_P99" "$R_ERR" "$R_SRV" "$R_WRK" "$R_DB" "$R_OTHER" "$R_LOAD0" "$R_LOAD1"
			run_wrk "get-nocache-$round" "$NOCACHE_URL" "$NOCACHE_PID" "$DURATION"
			record nocache "$round" "$R_RPS" "$R_P50" "$R_P99" "$R_ERR" "$R_SRV" "$R_WRK" "$R_DB" "$R_OTHER" "$R_LOAD0" "$R_LOAD1"
			if [ "$SKIP_FASTIFY" != 1 ]; then
				run_wrk "fastify-$round" "$FASTIFY_URL" "$FASTIFY_PID" "$DURATION"
				record fastify "$round" "$R_RPS" "$R_P50" "$R_P99" "$R_ERR" "$R_SRV" "$R_WRK" "$R_DB" "$R_OTHER" "$R_LOAD0" "$R_LOAD1"
			fi
		} 9>"$LOCK"
		say "round $round of $ROUNDS: send-email (waiting for $LOCK)"
		{
			flock 9
			run_wrk "send-$round" "$SEND_URL" "$API_PID" "$SEND_DURATION" -s "$WORK/send-email.lua"
			record send "$round" "$R_RPS" "$R_P50" "$R_P99" "$R_ERR" "$R_SRV" "$R_WRK" "$R_DB" "$R_OTHER" "$R_LOAD0" "$R_LOAD1"
		} 9>"$LOCK"
		say "dropping the tasks send-email left: $(DATABASE_URL=$DB_URL "$HELPER" drop-queued) deleted"
	done
	stop_pid "$API_PID"
	stop_pid "$NOCACHE_PID"
	[ "$SKIP_FASTIFY" = 1 ] || stop_pid "$FASTIFY_PID"
fi

# ---------------------------------------------------------------------------
# c: a fresh mailpit per measurement. The plain loop first (sequential, then
# with the worker's concurrency), then the worker: EMAILS rows and tasks are
# queued while it is stopped, then it starts and drains them.

SMTP_PORT_BENCH=$(free_port "${BENCH_SMTP_PORT:-1125}")
MAILPIT_UI_PORT=$(free_port $((SMTP_PORT_BENCH + 7000)))
start_mailpit() {
	rm -f "$WORK"/mailpit.db*
	"$MAILPIT" --smtp "127.0.0.1:$SMTP_PORT_BENCH" --listen "127.0.0.1:$MAILPIT_UI_PORT" --database "$WORK/mailpit.db" \
		--max "$((EMAILS * 4))" --quiet --disable-version-check --smtp-disable-rdns \
		>"$WORK/mailpit.log" 2>&1 &
	MAILPIT_PID=$!
	PIDS+=("$MAILPIT_PID")
	wait_port "$SMTP_PORT_BENCH" 20 "$MAILPIT_PID" || {
		cat "$WORK/mailpit.log" >&2
		die "mailpit did not listen on $SMTP_PORT_BENCH"
	}
}
# timed_loop LABEL CONCURRENCY — sets L_RATE L_SECS L_SMTP L_LOOP L_DB L_OTHER
# L_LOAD0 L_LOAD1 (the loop's CPU is what the machine used minus the rest).
timed_loop() {
	start_mailpit
	L_LOAD0=$(loadavg)
	local s0 d0 m0 w0 s1 d1 m1 w1 out
	s0=$(proc_ticks "$MAILPIT_PID")
	d0=$(db_ticks)
	m0=$(machine_ticks)
	w0=$(now)
	out=$("$HELPER" smtp-loop -addr "127.0.0.1:$SMTP_PORT_BENCH" -n "$EMAILS" -c "$2")
	w1=$(now)
	s1=$(proc_ticks "$MAILPIT_PID")
	d1=$(db_ticks)
	m1=$(machine_ticks)
	L_LOAD1=$(loadavg)
	read -r _ L_SECS L_RATE <<<"$out"
	read -r L_SMTP L_DB L_OTHER < <(awk -v s0="$s0" -v s1="$s1" -v d0="$d0" -v d1="$d1" -v b0="$m0" -v b1="$m1" \
		-v w0="$w0" -v w1="$w1" -v hz="$CLK_TCK" 'BEGIN {
			wall = w1 - w0; smtp = (s1 - s0) / hz; db = (d1 - d0) / hz; if (db < 0) db = 0
			rest = (b1 - b0) / hz - smtp - db; if (rest < 0) rest = 0
			printf "%.0f %.0f %.0f\n", 100 * smtp / wall, 100 * db / wall, 100 * rest / wall }')
	say "$1: $EMAILS messages in ${L_SECS}s: $L_RATE/s (mailpit ${L_SMTP}% CPU, db ${L_DB}%, the loop and everything else ${L_OTHER}%)"
	stop_pid "$MAILPIT_PID"
}
if [ "$SKIP_E2E" != 1 ]; then
	MAILPIT_VERSION=$(go version -m "$MAILPIT" 2>/dev/null | awk '$1 == "mod" {print $3}')
	"$HELPER" precheck
	for ((round = 1; round <= ROUNDS; round++)); do
		say "round $round of $ROUNDS: SMTP (waiting for $LOCK)"
		{
			flock 9
			timed_loop "loop-1-$round" 1
			record loop1 "$round" "$L_RATE" "$L_SECS" - 0 "$L_SMTP" - "$L_DB" "$L_OTHER" "$L_LOAD0" "$L_LOAD1"
			timed_loop "loop-c-$round" "$WORKER_CONC"
			record loopc "$round" "$L_RATE" "$L_SECS" - 0 "$L_SMTP" - "$L_DB" "$L_OTHER" "$L_LOAD0" "$L_LOAD1"

			start_mailpit
			SINCE=$(date -u '+%Y-%m-%dT%H:%M:%S.%NZ')
			"$HELPER" enqueue -n "$EMAILS" >/dev/null
			E_LOAD0=$(loadavg)
			SMTP_HOST=127.0.0.1 SMTP_PORT=$SMTP_PORT_BENCH SMTP_TLS=none SMTP_FROM=campaigns@bench.invalid \
				SMTP_FROM_NAME='Bench Organization' "$BIN" worker --queues email --concurrency "$WORKER_CONC" \
				>"$WORK/worker.log" 2>&1 &
			WORKER_PID=$!
			PIDS+=("$WORKER_PID")
			w0=$(now) d0=$(db_ticks) m0=$(machine_ticks) k0=$(proc_ticks "$MAILPIT_PID")
			out=$("$HELPER" wait-sent -n "$EMAILS" -since "$SINCE" -timeout 10m) || {
				cat "$WORK/worker.log" >&2
				die "the worker did not send the emails"
			}
			w1=$(now) d1=$(db_ticks) m1=$(machine_ticks) k1=$(proc_ticks "$MAILPIT_PID") wk=$(proc_ticks "$WORKER_PID")
			E_LOAD1=$(loadavg)
			read -r _ E_SECS E_RATE <<<"$out"
			# The worker's CPU since it started, over the time it ran.
			read -r E_WORKER E_SMTP E_DB E_OTHER < <(awk -v wk="$wk" -v k0="$k0" -v k1="$k1" -v d0="$d0" -v d1="$d1" \
				-v b0="$m0" -v b1="$m1" -v w0="$w0" -v w1="$w1" -v hz="$CLK_TCK" 'BEGIN {
					wall = w1 - w0; w = wk / hz; smtp = (k1 - k0) / hz; db = (d1 - d0) / hz; if (db < 0) db = 0
					rest = (b1 - b0) / hz - w - smtp - db; if (rest < 0) rest = 0
					printf "%.0f %.0f %.0f %.0f\n", 100 * w / wall, 100 * smtp / wall, 100 * db / wall, 100 * rest / wall }')
			say "worker-$round: $EMAILS emails, first to last sent_at ${E_SECS}s: $E_RATE/s (worker ${E_WORKER}% CPU, mailpit ${E_SMTP}%, db ${E_DB}%, other ${E_OTHER}%)"
			record worker "$round" "$E_RATE" "$E_SECS" - 0 "$E_WORKER" "$E_SMTP" "$E_DB" "$E_OTHER" "$E_LOAD0" "$E_LOAD1"
			stop_pid "$WORKER_PID"
			stop_pid "$MAILPIT_PID"
		} 9>"$LOCK"
	done
fi
LOAD_END=$(loadavg)

# ---------------------------------------------------------------------------
# Report: the median round of each measurement, every round beside it.

TH='function th(x,  s, o) { s = sprintf("%d", x); o = ""; while (length(s) > 3) { o = "," substr(s, length(s) - 2) o; s = substr(s, 1, length(s) - 3) }; return s o }'
median() {
	awk -F'\t' -v k="$1" '$1 == k' "$RESULTS" | sort -t"$(printf '\t')" -k3,3n | awk -v n="$ROUNDS" 'NR == int((n + 1) / 2)'
}
rounds() { awk -F'\t' -v k="$1" "$TH"' $1 == k {printf "%s%s", sep, th($3); sep = ", "}' "$RESULTS"; }
fmt() { awk -v x="$1" "$TH"' BEGIN { print th(x) }'; }
field() { median "$1" | cut -f"$2"; }

{
	echo "| measurement | median | each round | p50 | p99 | errors | CPU, % of one core | db (Postgres + Redis) | other | load avg before → after (median round) |"
	echo "| --- | ---: | --- | ---: | ---: | ---: | --- | ---: | ---: | --- |"
	row_wrk() { # KIND NAME UNIT
		printf '| %s | **%s** %s | %s | %s | %s | %s | server %s, wrk %s | %s | %s | %s → %s |\n' "$2" "$(fmt "$(field "$1" 3)")" "$3" \
			"$(rounds "$1")" "$(field "$1" 4)" "$(field "$1" 5)" "$(field "$1" 6)" "$(field "$1" 7)" "$(field "$1" 8)" \
			"$(field "$1" 9)" "$(field "$1" 10)" "$(field "$1" 11)" "$(field "$1" 12)"
	}
	if [ "$SKIP_HTTP" != 1 ]; then
		row_wrk get 'main API `GET /api/public/campaigns/:slug` (default: page reused for 1 s)' 'req/s'
		row_wrk nocache 'main API, the same with `PUBLIC_CAMPAIGN_CACHE_TTL=0` (a read per request)' 'req/s'
		[ "$SKIP_FASTIFY" = 1 ] || row_wrk fastify "Fastify $FASTIFY_VERSION + pg $PG_VERSION, the same read (baseline)" 'req/s'
		row_wrk send 'main API `POST /api/public/campaigns/:slug/send-email`, accepted (202)' '/s'
	fi
	if [ "$SKIP_E2E" != 1 ]; then
		row_smtp() { # KIND NAME CPU
			printf '| %s | **%s** msgs/s | %s | — | — | 0 | %s | %s | %s | %s → %s |\n' "$2" "$(fmt "$(field "$1" 3)")" "$(rounds "$1")" \
				"$3" "$(field "$1" 9)" "$(field "$1" 10)" "$(field "$1" 11)" "$(field "$1" 12)"
		}
		row_smtp loop1 "plain Go loop → mailpit, 1 at a time" "mailpit $(field loop1 7)"
		row_smtp loopc "plain Go loop → mailpit, $WORKER_CONC at a time" "mailpit $(field loopc 7)"
		row_smtp worker "one email worker (\`--concurrency $WORKER_CONC\`) → mailpit, end to end" \
			"worker $(field worker 7), mailpit $(field worker 8)"
	fi
} >"$WORK/table.md"

{
	echo
	if [ "$SKIP_FASTIFY" != 1 ]; then
		verdict() { # KIND NAME
			local r per met
			r=$(awk -v a="$(field "$1" 3)" -v b="$(field fastify 3)" 'BEGIN{printf "%.2f", a / b}')
			per=$(awk -F'\t' -v k="$1" '$1 == k {g[$2] = $3} $1 == "fastify" {f[$2] = $3}
				END {for (r = 1; r in g; r++) {printf "%s%.2f×", sep, g[r] / f[r]; sep = ", "}}' "$RESULTS")
			met=$(awk -v r="$r" -v t="$TARGET_RATIO" 'BEGIN{print (r >= t) ? "met" : "not met"}')
			echo "- $2 (median) is **${r}×** Fastify + pg (median): the ${TARGET_RATIO}× target is **${met}**. Per round, back to back: ${per}."
		}
		verdict get "GET as configured by default"
		verdict nocache "GET with a read per request, as Fastify does"
		echo
	fi
	if [ "$SKIP_E2E" != 1 ]; then
		W=$(field worker 3) L1=$(field loop1 3) LC=$(field loopc 3)
		echo "The worker delivers **$(awk -v a="$W" -v b="$LC" 'BEGIN{printf "%.0f", 100 * a / b}')%** of what mailpit accepts from a plain loop at the same concurrency ($(awk -v a="$W" -v b="$L1" 'BEGIN{printf "%.1f", a / b}')× a sequential loop)."
		echo
	fi
	echo "- Machine: $(awk -F': *' '/^model name/{print $2; exit}' /proc/cpuinfo), $(nproc) cores (\`nproc\`), $(awk '/^MemTotal/{printf "%.0f GiB", $2 / 1048576}' /proc/meminfo); $(uname -sr)"
	echo "- Software: $(go env GOVERSION), Node.js $(have node && node --version || echo —), Fastify ${FASTIFY_VERSION:-—}, pg ${PG_VERSION:-—}, mailpit ${MAILPIT_VERSION:-—}, wrk $( (wrk -v 2>&1 || true) | awk 'NR == 1 {print $2}'), PostgreSQL $(psql "$PG_URL" -Atc 'SHOW server_version' | cut -d' ' -f1), Redis $(redis-cli -u "$REDIS_URL_BENCH" INFO server 2>/dev/null | awk -F: '/^redis_version/{print $2}' | tr -d '\r'); build \`$VERSION\`"
	echo "- Run: $TIME; $ROUNDS rounds; wrk -t$THREADS -c$CONNS, ${DURATION} per GET run and ${SEND_DURATION} per send-email run, each after a ${WARMUP} warm-up; $EMAILS emails per SMTP run; load average $LOAD_START at the start, $LOAD_END at the end"
	[ -z "$GO_BYTES" ] || echo "- Response sizes (headers + body): main API $GO_BYTES bytes, Fastify ${FASTIFY_BYTES:-—} bytes (the same JSON body, checked byte for byte)"
} >"$WORK/summary.md"

cat "$WORK/table.md" "$WORK/summary.md" >"$WORK/results.md"
printf '\n' >&2
cat "$WORK/results.md"
say "results in $WORK/results.md (raw: $RESULTS); paste them into docs/benchmarks.md between its influence markers"
