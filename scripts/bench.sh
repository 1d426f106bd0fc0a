#!/usr/bin/env bash
# bench.sh — the HTTP benchmarks recorded in docs/benchmarks.md (`make bench`).
#
#   ./scripts/bench.sh
#
# Drives, with wrk, on this machine:
#   1. GET /api/health of the main API (full middleware chain, access log on,
#      written to /dev/null);
#   2. GET /api/auth/me of the main API with a bearer token (JWT check plus
#      the user lookup in Postgres);
#   3. GET /health of a bare Fastify 5 server (bench/fastify) answering the
#      same JSON, as the baseline.
# Each run is preceded by a warm-up whose numbers are discarded. The results
# (requests/s, p99, the CPU each side used, the load on the machine) are
# printed as a markdown table and written to docs/benchmarks.md as a dated
# section, with the machine they ran on.
#
# It is a benchmark, not a test: it exits non-zero only when it cannot run,
# never because a number missed its target.
#
# Uses its own database (changemaker_bench, dropped and recreated), Redis DB 0
# (the API only keeps rate-limit counters there; DBs 1-15 belong to the tests)
# and its own build in .bench/. Every server it starts is stopped on exit.
#
# Environment (defaults in brackets):
#   BENCH_DURATION [15s]  BENCH_WARMUP [3s]  BENCH_THREADS [2]  BENCH_CONNS [50]
#   BENCH_ROUNDS [3]      rounds of all three runs; the median round is reported
#   BENCH_API_PORT [4900]  BENCH_FASTIFY_PORT [4901]  (the next free port is taken)
#   BENCH_PG_URL [postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable]
#                 maintenance database of the server to create changemaker_bench on
#   BENCH_REDIS_URL [redis://127.0.0.1:6379/0]
#   BENCH_DOC [docs/benchmarks.md]  BENCH_WRITE_DOC [1]  (0: print only)
#   BENCH_NOTE    a sentence added to the results section (e.g. what else ran)
#   BENCH_SKIP_FASTIFY [0]  (1: no baseline; needs no Node.js)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

DURATION=${BENCH_DURATION:-15s}
WARMUP=${BENCH_WARMUP:-3s}
THREADS=${BENCH_THREADS:-2}
ROUNDS=${BENCH_ROUNDS:-3}
CONNS=${BENCH_CONNS:-50}
PG_URL=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
REDIS_URL_BENCH=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/0}
DOC=${BENCH_DOC:-docs/benchmarks.md}
WRITE_DOC=${BENCH_WRITE_DOC:-1}
SKIP_FASTIFY=${BENCH_SKIP_FASTIFY:-0}
DB_NAME=changemaker_bench
ADMIN_EMAIL=bench-admin@bench.invalid
ADMIN_PASSWORD=bench-Password-0123456789-not-a-secret
TARGET_RATIO=1.5
WORK=$ROOT/.bench # ignored by git and docker

say() { printf '==> %s\n' "$*" >&2; }
die() {
	printf 'bench.sh: %s\n' "$*" >&2
	exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
	local p=$1
	while port_open "$p"; do p=$((p + 1)); done
	echo "$p"
}

if ! have go && [ -x /usr/local/go/bin/go ]; then PATH=$PATH:/usr/local/go/bin; fi

# ---------------------------------------------------------------------------
# Dependencies: wrk, Postgres and Redis answering (scripts/install-deps.sh
# installs and starts what is missing), Node.js 20+ for the baseline.

if ! have wrk || ! have psql || ! pg_isready -h 127.0.0.1 -q -t 2 >/dev/null 2>&1 ||
	[ "$(redis-cli ping 2>/dev/null)" != PONG ]; then
	say "installing/starting what is missing (scripts/install-deps.sh --bench)"
	scripts/install-deps.sh --bench
fi
have wrk || die "wrk is not installed (apt-get install wrk; brew install wrk)"
have go || die "Go is not installed"
have curl || die "curl is not installed"
if [ "$SKIP_FASTIFY" != 1 ]; then
	if ! have node || ! have npm; then
		if have apt-get && [ "$(id -u)" -eq 0 ]; then
			say "installing Node.js (apt) for the Fastify baseline"
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
		fi
	fi
	have node && have npm || die "Node.js 20+ and npm are needed for the Fastify baseline (or set BENCH_SKIP_FASTIFY=1)"
	node_major=$(node -p 'process.versions.node.split(".")[0]')
	[ "$node_major" -ge 20 ] || die "Fastify 5 needs Node.js 20+, found $(node --version) (or set BENCH_SKIP_FASTIFY=1)"
fi

# ---------------------------------------------------------------------------
# Servers are stopped on any exit.

PIDS=()
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
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

# ---------------------------------------------------------------------------
# Measuring. CPU time is read from /proc: the server's (utime+stime of its
# process), wrk's (bash's `time`), Postgres's and Redis's ("db": every
# postgres and redis-server process, since /api/auth/me reads its user from
# Postgres), and the whole machine's (/proc/stat), so "other" is what the rest
# of the machine used during the run.

CLK_TCK=$(getconf CLK_TCK)
NCPU=$(nproc)
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
db_ticks() {
	local p t=0
	for p in $(pgrep -x postgres) $(pgrep -x redis-server); do t=$((t + $(proc_ticks "$p"))); done
	echo "$t"
}
machine_ticks() { awk '/^cpu /{busy = $2 + $3 + $4 + $7 + $8 + $9; print busy, busy + $5 + $6; exit}' /proc/stat; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# run_wrk LABEL URL SERVER_PID [wrk args...] — sets R_RPS R_P99 R_P50 R_ERR
# R_SRV R_WRK R_DB R_OTHER R_LOAD0 R_LOAD1 (CPU as % of one core).
run_wrk() {
	local label=$1 url=$2 pid=$3
	shift 3
	local out=$WORK/wrk-$label.txt tfile=$WORK/time-$label.txt
	say "$label: warm-up $WARMUP"
	wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" "$@" "$url" >/dev/null
	R_LOAD0=$(loadavg)
	local s0 m0 m1 s1 d0 d1 wall0 wall1
	s0=$(proc_ticks "$pid")
	d0=$(db_ticks)
	read -r -a m0 < <(machine_ticks)
	wall0=$(date +%s.%N)
	say "$label: wrk -t$THREADS -c$CONNS -d$DURATION --latency $url"
	local TIMEFORMAT='%U %S'
	{ time wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$@" "$url" >"$out" 2>&1; } 2>"$tfile"
	wall1=$(date +%s.%N)
	s1=$(proc_ticks "$pid")
	d1=$(db_ticks)
	read -r -a m1 < <(machine_ticks)
	R_LOAD1=$(loadavg)
	cat "$out" >&2
	R_RPS=$(awk '/^Requests\/sec:/{printf "%.0f", $2}' "$out")
	R_P50=$(awk '$1 == "50%" {print $2}' "$out")
	R_P99=$(awk '$1 == "99%" {print $2}' "$out")
	R_ERR=$(awk '/Non-2xx or 3xx responses:/{n += $NF} /Socket errors:/{gsub(/,/, ""); n += $4 + $6 + $8 + $10} END{print n + 0}' "$out")
	[ -n "$R_RPS" ] && [ -n "$R_P99" ] || die "$label: could not read wrk's output ($out)"
	# CPU use in % of one core over the run's wall time.
	read -r R_SRV R_WRK R_DB R_OTHER < <(awk -v s0="$s0" -v s1="$s1" -v b0="${m0[0]}" -v b1="${m1[0]}" \
		-v d0="$d0" -v d1="$d1" -v w0="$wall0" -v w1="$wall1" -v hz="$CLK_TCK" -v t="$(cat "$tfile")" 'BEGIN {
			wall = w1 - w0; split(t, tt, " ")
			srv = (s1 - s0) / hz; wrk = tt[1] + tt[2]; all = (b1 - b0) / hz; db = (d1 - d0) / hz
			if (db < 0) db = 0
			other = all - srv - wrk - db; if (other < 0) other = 0
			printf "%.0f %.0f %.0f %.0f\n", 100 * srv / wall, 100 * wrk / wall, 100 * db / wall, 100 * other / wall }')
	if [ "$R_ERR" != 0 ]; then
		say "$label: WARNING: $R_ERR non-2xx responses or socket errors"
	fi
}

# ---------------------------------------------------------------------------
# The main API: build, database, admin, server, token.

mkdir -p "$WORK"
VERSION=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then COMMIT="$COMMIT (uncommitted changes in the tree)"; fi
say "building .bench/changemaker ($VERSION)"
go build -ldflags "-X main.version=$VERSION" -o "$WORK/changemaker" ./cmd/changemaker
BIN=$WORK/changemaker

say "database $DB_NAME: drop and recreate"
psql "$PG_URL" -v ON_ERROR_STOP=1 -q -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" -c "CREATE DATABASE $DB_NAME" >/dev/null
DB_URL=$(printf '%s' "$PG_URL" | sed -E "s#^(postgres(ql)?://[^/]*)/[^?]*#\1/$DB_NAME#")

API_PORT_BENCH=$(free_port "${BENCH_API_PORT:-4900}")
export APP_ENV=production
export DATABASE_URL=$DB_URL
export REDIS_URL=$REDIS_URL_BENCH
# Fixed 48-character secrets: this database and its tokens are thrown away.
export JWT_ACCESS_SECRET=bench-access-secret-0123456789abcdefghijklmnopqr
export JWT_REFRESH_SECRET=bench-refresh-secret-0123456789abcdefghijklmnopq
export ENCRYPTION_KEY=bench-encryption-key-0123456789abcdefghijklmnopq
export API_PORT=$API_PORT_BENCH
export ACCESS_LOG=/dev/null
export LOG_LEVEL=warn
export LOGIN_RATE_LIMIT=1000 # one login here; never blocked by other logins from 127.0.0.1
export PUBLIC_URL=http://127.0.0.1:$API_PORT_BENCH

say "migrating and creating the bench admin"
"$BIN" migrate up >"$WORK/migrate.log" 2>&1 || {
	cat "$WORK/migrate.log" >&2
	die "migrate up failed"
}
"$BIN" admin create-user --email "$ADMIN_EMAIL" --role SUPER_ADMIN --password "$ADMIN_PASSWORD" \
	>"$WORK/admin.log" 2>&1 || {
	cat "$WORK/admin.log" >&2
	die "admin create-user failed"
}

say "starting the main API on 127.0.0.1:$API_PORT_BENCH (ACCESS_LOG=/dev/null)"
"$BIN" api >"$WORK/api.log" 2>&1 &
API_PID=$!
PIDS+=("$API_PID")
wait_http "http://127.0.0.1:$API_PORT_BENCH/api/health" 30 "$API_PID" || {
	cat "$WORK/api.log" >&2
	die "the main API did not answer /api/health"
}
HEALTH_BODY=$(curl -fsS "http://127.0.0.1:$API_PORT_BENCH/api/health")
HEALTH_BYTES=$(curl -fsS -D - "http://127.0.0.1:$API_PORT_BENCH/api/health" | wc -c)

# login prints a fresh access token (15 minutes): one per round.
login() {
	curl -fsS -H 'Content-Type: application/json' \
		-d "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"}" \
		"http://127.0.0.1:$API_PORT_BENCH/api/auth/login" |
		sed -n 's/.*"accessToken":"\([^"]*\)".*/\1/p'
}
TOKEN=$(login)
[ -n "$TOKEN" ] || die "login failed: no accessToken"
curl -fsS -o /dev/null -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$API_PORT_BENCH/api/auth/me" ||
	die "GET /api/auth/me with the token failed"

# ---------------------------------------------------------------------------
# The Fastify baseline, started beside the main API (an idle server uses no CPU).

FASTIFY_VERSION='' FASTIFY_BYTES=''
if [ "$SKIP_FASTIFY" != 1 ]; then
	(
		cd bench/fastify
		if [ ! -f node_modules/fastify/package.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
			say "installing Fastify (npm ci in bench/fastify)"
			npm ci --no-audit --no-fund --loglevel=error >&2
		fi
	)
	FASTIFY_VERSION=$(node -p 'require("./bench/fastify/node_modules/fastify/package.json").version')
	FASTIFY_PORT=$(free_port "${BENCH_FASTIFY_PORT:-4901}")
	say "starting Fastify $FASTIFY_VERSION on 127.0.0.1:$FASTIFY_PORT"
	PORT=$FASTIFY_PORT HEALTH_BODY=$HEALTH_BODY NODE_ENV=production node bench/fastify/server.js >"$WORK/fastify.log" 2>&1 &
	FASTIFY_PID=$!
	PIDS+=("$FASTIFY_PID")
	wait_http "http://127.0.0.1:$FASTIFY_PORT/health" 30 "$FASTIFY_PID" || {
		cat "$WORK/fastify.log" >&2
		die "Fastify did not answer /health"
	}
	[ "$(curl -fsS "http://127.0.0.1:$FASTIFY_PORT/health")" = "$HEALTH_BODY" ] ||
		die "Fastify's body differs from the main API's"
	FASTIFY_BYTES=$(curl -fsS -D - "http://127.0.0.1:$FASTIFY_PORT/health" | wc -c)
fi

# ---------------------------------------------------------------------------
# The runs: ROUNDS rounds of health, Fastify, me — health and its baseline
# back to back, so that both see the same machine. Results: one line per run.

TIME=$(date -u '+%Y-%m-%d %H:%M UTC')
LOAD_START=$(loadavg)
RESULTS=$WORK/results.tsv
: >"$RESULTS"
record() { # ENDPOINT ROUND
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$R_RPS" "$R_P50" "$R_P99" "$R_ERR" \
		"$R_SRV" "$R_WRK" "$R_OTHER" "$R_LOAD0" "$R_LOAD1" "$R_DB" >>"$RESULTS"
}
for ((round = 1; round <= ROUNDS; round++)); do
	say "round $round of $ROUNDS"
	run_wrk "health-$round" "http://127.0.0.1:$API_PORT_BENCH/api/health" "$API_PID"
	record health "$round"
	if [ "$SKIP_FASTIFY" != 1 ]; then
		run_wrk "fastify-$round" "http://127.0.0.1:$FASTIFY_PORT/health" "$FASTIFY_PID"
		record fastify "$round"
	fi
	TOKEN=$(login)
	[ -n "$TOKEN" ] || die "login failed: no accessToken"
	run_wrk "me-$round" "http://127.0.0.1:$API_PORT_BENCH/api/auth/me" "$API_PID" -H "Authorization: Bearer $TOKEN"
	record me "$round"
done
LOAD_END=$(loadavg)

# ---------------------------------------------------------------------------
# Report.

CPU_MODEL=$(awk -F': *' '/^model name/{print $2; exit}' /proc/cpuinfo)
KERNEL=$(uname -sr)
GO_VERSION=$(go env GOVERSION)
NODE_VERSION=$(have node && node --version || echo 'not used')
WRK_VERSION=$( (wrk -v 2>&1 || true) | awk 'NR == 1 {print $2}')
MEM=$(awk '/^MemTotal/{printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)

# Thousands separated by commas, in awk (no locale needed).
TH='function th(x,  s, o) { s = sprintf("%d", x); o = ""; while (length(s) > 3) { o = "," substr(s, length(s) - 2) o; s = substr(s, 1, length(s) - 3) }; return s o }'
fmt_int() { awk -v x="$1" "$TH"' BEGIN { print th(x) }'; }
# median ENDPOINT prints the run whose requests/s is the median of the
# endpoint's rounds (the lower middle one for an even count).
median() {
	awk -F'\t' -v e="$1" '$1 == e' "$RESULTS" | sort -t"$(printf '\t')" -k3,3n |
		awk -v n="$ROUNDS" 'NR == int((n + 1) / 2)'
}
# all_rps ENDPOINT prints the requests/s of every round, in run order.
all_rps() {
	awk -F'\t' -v e="$1" "$TH"' $1 == e {printf "%s%s", sep, th($3); sep = ", "}' "$RESULTS"
}
row() { # NAME ENDPOINT
	local f
	IFS=$'\t' read -r -a f < <(median "$2")
	printf '| %s | **%s** | %s | %s | %s | %s | %s%% | %s%% | %s%% | %s%% | %s → %s |\n' "$1" "$(fmt_int "${f[2]}")" \
		"$(all_rps "$2")" "${f[3]}" "${f[4]}" "${f[5]}" "${f[6]}" "${f[7]}" "${f[11]}" "${f[8]}" "${f[9]}" "${f[10]}"
}

TABLE=$(
	echo "| endpoint | requests/s (median) | requests/s, each round | p50 | p99 | errors | CPU server | CPU wrk | CPU db (Postgres + Redis) | CPU other | load avg before → after |"
	echo "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
	row 'main API `GET /api/health`' health
	if [ "$SKIP_FASTIFY" != 1 ]; then row "Fastify $FASTIFY_VERSION \`GET /health\` (baseline)" fastify; fi
	row 'main API `GET /api/auth/me`' me
)

VERDICT="No Fastify baseline in this run (BENCH_SKIP_FASTIFY=1)."
if [ "$SKIP_FASTIFY" != 1 ]; then
	H_RPS=$(median health | cut -f3)
	F_RPS=$(median fastify | cut -f3)
	RATIO=$(awk -v a="$H_RPS" -v b="$F_RPS" 'BEGIN{printf "%.2f", a / b}')
	PER_ROUND=$(awk -F'\t' '$1 == "health" {h[$2] = $3} $1 == "fastify" {f[$2] = $3}
		END {for (r = 1; r in h; r++) {printf "%s%.2f×", sep, h[r] / f[r]; sep = ", "}}' "$RESULTS")
	if awk -v r="$RATIO" -v t="$TARGET_RATIO" 'BEGIN{exit !(r >= t)}'; then
		MET="is met"
	else
		MET="is not met"
	fi
	VERDICT="Health (median) is **${RATIO}×** Fastify (median): the ${TARGET_RATIO}× target **${MET}**. Health ÷ Fastify in each round, run back to back: ${PER_ROUND}."
fi
MAX_OTHER=$(cut -f9 "$RESULTS" | sort -n | tail -n 1)
ERRORS=$(awk -F'\t' '{n += $6} END {print n + 0}' "$RESULTS")
if [ "$MAX_OTHER" -ge 20 ]; then
	LOAD_NOTE="**disturbed.** Other processes used up to ${MAX_OTHER}% of a core during a run (\"CPU other\"; the table shows the median round). On a ${NCPU}-core machine where the server and wrk already share the cores, that lowers the numbers, and unevenly: compare rounds, and run again on a quiet machine before drawing conclusions."
else
	LOAD_NOTE="quiet: other processes used at most ${MAX_OTHER}% of a core during any run."
fi

SECTION=$(
	cat <<EOF
<!-- bench-run: $TIME -->
### $TIME

$TABLE

$VERDICT

- Machine: $CPU_MODEL, $NCPU cores (\`nproc\`), $MEM; $KERNEL
- Software: $GO_VERSION, Node.js $NODE_VERSION, Fastify ${FASTIFY_VERSION:-—}, wrk $WRK_VERSION; main API build \`$VERSION\`, commit $COMMIT
- Load: $ROUNDS rounds, each running \`wrk -t$THREADS -c$CONNS -d$DURATION --latency\` after a $WARMUP warm-up on health, Fastify, then me, one at a time; the table shows each endpoint's median round. Load average (1, 5, 15 min) $LOAD_START at the start, $LOAD_END at the end
- Other load on the machine: $LOAD_NOTE
- Response sizes (headers + body): main API health $HEALTH_BYTES bytes, Fastify ${FASTIFY_BYTES:-—} bytes (same JSON body; ours adds the request ID, security and CORS headers)
EOF
	if [ "$ERRORS" != 0 ]; then echo "- **Errors:** $ERRORS non-2xx responses or socket errors in all; those runs' numbers do not count."; fi
	if [ -n "${BENCH_NOTE:-}" ]; then echo "- Note: $BENCH_NOTE"; fi
	echo "<!-- /bench-run -->"
)

printf '\n%s\n' "$SECTION"

if [ "$WRITE_DOC" = 1 ]; then
	[ -f "$DOC" ] || die "$DOC is missing: it holds the explanation the results go under"
	grep -q '^<!-- bench-results -->$' "$DOC" || die "$DOC has no '<!-- bench-results -->' line to put the results under"
	# Everything below the marker up to the first other section is written
	# here: the newest run first, then the older runs (a run with the same
	# timestamp is replaced), 10 at most.
	printf '%s\n' "$SECTION" >"$WORK/section.md"
	awk -v secfile="$WORK/section.md" -v stamp="<!-- bench-run: $TIME -->" -v keep=10 '
		BEGIN { while ((getline l < secfile) > 0) sec = sec l "\n" }
		!seen && $0 == "<!-- bench-results -->" { print; printf "\n%s", sec; seen = 1; n = 1; next }
		!seen { print; next }
		# Sections other benchmarks own (<!-- influence:start --> …) follow
		# the runs; they are copied as they are.
		/^<!-- [a-z-]+:start -->$/ && !tail { tail = 1; printf "\n" }
		tail { print; next }
		/^<!-- bench-run: / { in_run = 1; st = $0; run = "" }
		in_run { run = run $0 "\n" }
		in_run && $0 == "<!-- /bench-run -->" {
			in_run = 0
			if (st != stamp && n < keep) { printf "\n%s", run; n++ }
		}
	' "$DOC" >"$WORK/doc.md"
	mv "$WORK/doc.md" "$DOC"
	say "results written to $DOC"
fi
