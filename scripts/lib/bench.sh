# shellcheck shell=bash
# scripts/lib/bench.sh — what the benchmark scripts share: messages, the
# tools they need, free ports, a Redis server of their own, a fresh
# database, the binaries, and stopping every process they started on any
# exit. Sourced (not run) by scripts/bench-*.sh after they set:
#
#   BENCH_NAME  the script's name, for error messages
#   WORK        its working directory (.bench/<name>)
#   PG_URL      the Postgres server to create the benchmark database on
#
# Functions: say, die, have, need, port_open, free_port, loadavg,
# start_redis, fresh_database, build_binaries. PIDS holds what is stopped
# at exit.

say() { printf '==> %s\n' "$*" >&2; }
die() {
	printf '%s: %s\n' "$BENCH_NAME" "$*" >&2
	exit 2
}
have() { command -v "$1" >/dev/null 2>&1; }
# need TOOL...: stop unless every tool is installed.
need() {
	local tool
	for tool; do have "$tool" || die "$tool is not installed (scripts/install-deps.sh --bench --test)"; done
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
	local p=$1
	while port_open "$p"; do p=$((p + 1)); done
	echo "$p"
}
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

PIDS=()
bench_cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# start_redis FIRST_PORT: a redis-server of the benchmark's own (nothing
# persisted, stopped at exit) on the first free port from FIRST_PORT; sets
# REDIS_PORT and REDIS_PID.
start_redis() {
	mkdir -p "$WORK/redis"
	REDIS_PORT=$(free_port "$1")
	say "starting a Redis server of its own on 127.0.0.1:$REDIS_PORT"
	redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --dir "$WORK/redis" \
		--logfile "$WORK/redis.log" &
	REDIS_PID=$!
	PIDS+=("$REDIS_PID")
	for _ in $(seq 50); do port_open "$REDIS_PORT" && break; sleep 0.1; done
	port_open "$REDIS_PORT" || die "redis-server did not start; see $WORK/redis.log"
}

# fresh_database NAME: drops and recreates database NAME on PG_URL's server;
# sets DB_URL to it.
fresh_database() {
	say "database $1: drop and recreate"
	psql "$PG_URL" -v ON_ERROR_STOP=1 -q -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null
	DB_URL=$(printf '%s' "$PG_URL" | sed -E "s#^(postgres(ql)?://[^/]*)/[^?]*#\1/$1#")
}

# build_binaries CMD...: bin/changemaker (with the version) and each
# ./bench/CMD into $WORK/CMD; sets VERSION.
build_binaries() {
	mkdir -p bin "$WORK"
	VERSION=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
	say "building bin/changemaker ($VERSION) and bench/$*"
	go build -ldflags "-X main.version=$VERSION" -o bin/changemaker ./cmd/changemaker
	local cmd
	for cmd; do go build -o "$WORK/$cmd" "./bench/$cmd"; done
}

# migrate_production NAME: the environment of a production process on the
# benchmark's database (DB_URL) and Redis (REDIS_PORT), with fixed secrets
# (the database is thrown away), exported for every process the benchmark
# starts; then `migrate up`.
migrate_production() {
	export APP_ENV=production DATABASE_URL=$DB_URL REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0 LOG_LEVEL=warn
	export JWT_ACCESS_SECRET=bench-$1-access-0123456789abcdefghijklmnopqrstuvwxyz
	export JWT_REFRESH_SECRET=bench-$1-refresh-0123456789abcdefghijklmnopqrstuvwxyz
	export ENCRYPTION_KEY=bench-$1-encryption-0123456789abcdefghijklmnopqrstuvwxyz
	bin/changemaker migrate up >"$WORK/migrate.log" 2>&1 || {
		cat "$WORK/migrate.log" >&2
		die "migrate up failed"
	}
}
