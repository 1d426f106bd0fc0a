#!/usr/bin/env bash
# install-deps.sh — install what Changemaker needs to run and test on this
# machine, then make sure Postgres and Redis are answering.
#
#   scripts/install-deps.sh [--bench] [--no-start] [--start-only]
#
#   --bench       also install wrk (for scripts/bench.sh)
#   --test        also install chromium and prometheus (browser, alert and Grafana tests)
#                 and goreman (a Procfile runner: the Procfile test, deploy/procfile_test.go)
#   --no-start    install only; do not start Postgres and Redis
#   --start-only  do not install anything; only start Postgres and Redis
#
# PostGIS comes from postgresql-<major>-postgis-3 for the major version of
# the server that runs on CM_PG_PORT (nothing is installed when it has it).
#
# Idempotent: it installs only what is missing and starts only what is not
# answering. On Debian/Ubuntu it uses apt (through sudo when not root);
# elsewhere it lists what to install and exits non-zero. It works without
# systemd (containers): Postgres through pg_ctlcluster or `service`, Redis by
# running redis-server directly.
#
# apt's and go install's output goes to tmp/install.log (CM_INSTALL_LOG);
# the screen says what is being installed and why.
#
# Environment: CM_PG_HOST/CM_PG_PORT (default 127.0.0.1:5432),
# CM_REDIS_HOST/CM_REDIS_PORT (default 127.0.0.1:6379),
# CM_SERVICE_WAIT (seconds to wait for a service, default 60).
set -euo pipefail

MAILPIT_VERSION=v1.33.1
SQLC_VERSION=v1.31.1
GOREMAN_VERSION=v0.3.17
PG_HOST=${CM_PG_HOST:-127.0.0.1}
PG_PORT=${CM_PG_PORT:-5432}
REDIS_HOST=${CM_REDIS_HOST:-127.0.0.1}
REDIS_PORT=${CM_REDIS_PORT:-6379}
SERVICE_WAIT=${CM_SERVICE_WAIT:-60}
INSTALL_LOG=${CM_INSTALL_LOG:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tmp/install.log}

bench=0 tests=0 install=1 start=1
for arg in "$@"; do
	case $arg in
	--bench) bench=1 ;;
	--test) tests=1 ;;
	--no-start) start=0 ;;
	--start-only) install=0 ;;
	-h | --help)
		sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "install-deps: unknown argument $arg (try --help)" >&2
		exit 2
		;;
	esac
done

say() { printf '==> %s\n' "$*"; }
die() {
	printf 'install-deps: %s\n' "$*" >&2
	exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }

# Go may be installed but not on PATH (CI shells, sudo).
if ! have go && [ -x /usr/local/go/bin/go ]; then
	PATH=$PATH:/usr/local/go/bin
fi

# as_root runs a command as root: directly, or through sudo.
as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif have sudo; then
		sudo "$@"
	else
		die "need root for: $* (install sudo or run as root)"
	fi
}

# as_postgres runs a command as the postgres OS user (peer auth on the socket).
as_postgres() {
	# From /, which the postgres user can read (psql warns otherwise).
	(
		cd /
		if [ "$(id -u)" -ne 0 ]; then
			sudo -u postgres "$@"
		elif have runuser; then
			runuser -u postgres -- "$@"
		else
			su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
		fi
	)
}

systemd_running() { [ -d /run/systemd/system ]; }

pg_up() { pg_isready -h "$PG_HOST" -p "$PG_PORT" -q -t 2 >/dev/null 2>&1; }
redis_up() { [ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

# wait_until WHAT SECONDS CMD... polls CMD until it succeeds or the deadline passes.
wait_until() {
	local what=$1 secs=$2
	shift 2
	local end=$((SECONDS + secs))
	until "$@"; do
		if ((SECONDS >= end)); then
			echo "install-deps: $what did not answer within ${secs}s" >&2
			return 1
		fi
		sleep 0.5
	done
}

# ---------------------------------------------------------------------------
# Installing

# logged runs a command with its output appended to $INSTALL_LOG (dpkg alone
# prints hundreds of lines); when it fails, the log's tail is shown.
logged() {
	mkdir -p "$(dirname "$INSTALL_LOG")"
	printf '\n$ %s\n' "$*" >>"$INSTALL_LOG"
	if ! "$@" >>"$INSTALL_LOG" 2>&1; then
		echo "install-deps: failed: $*; the last lines of $INSTALL_LOG:" >&2
		tail -n 25 "$INSTALL_LOG" >&2
		return 1
	fi
}

# describe prints what a package is for, shown before it is installed.
describe() {
	case $1 in
	postgresql) echo "PostgreSQL server (the database)" ;;
	postgresql-client) echo "psql and pg_isready" ;;
	postgresql-*-postgis-3) echo "PostGIS 3 (map points and turf)" ;;
	redis-server) echo "Redis server (queues, caches, rate limits)" ;;
	redis-tools) echo "redis-cli" ;;
	gcc) echo "C compiler (go test -race needs cgo)" ;;
	libc6-dev) echo "C library headers (for gcc)" ;;
	ffmpeg) echo "ffmpeg and ffprobe (video probes and thumbnails)" ;;
	nginx) echo "nginx (tested with deploy/nginx; its system service is disabled)" ;;
	wrk) echo "wrk (benchmarks)" ;;
	chromium) echo "Chromium (the queue dashboard's browser test)" ;;
	prometheus) echo "Prometheus and promtool (alert and dashboard tests; its system service is disabled)" ;;
	*) echo "$1" ;;
	esac
}

# apt_install installs packages quietly: what and why on the screen, apt's
# and dpkg's output in the log.
apt_install() {
	local p
	say "installing with apt (output in $INSTALL_LOG):"
	for p in "$@"; do printf '    %-24s %s\n' "$p" "$(describe "$p")"; done
	logged as_root env DEBIAN_FRONTEND=noninteractive apt-get update
	# Other apt users (unattended upgrades) may hold the lock for a while.
	logged as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		-o DPkg::Lock::Timeout=300 "$@"
	for p in "$@"; do
		case $p in nginx | prometheus) quiet_service "$p" ;; esac
	done
}

# quiet_service stops and disables the system service a package we just
# installed starts on its own (nginx on port 80, prometheus on 9090):
# Changemaker runs its own instances of them, on their own ports.
quiet_service() {
	local name=$1
	if systemd_running; then
		logged as_root systemctl disable --now "$name" || true
	else
		if have service && [ -e "/etc/init.d/$name" ]; then logged as_root service "$name" stop || true; fi
		if have update-rc.d && [ -e "/etc/init.d/$name" ]; then logged as_root update-rc.d "$name" disable || true; fi
	fi
	say "$name: its system service is stopped and disabled (start it yourself if you want it)"
}

# missing_packages prints the Debian packages to install, one per line.
missing_packages() {
	# The server: any installed PostgreSQL, or one already answering.
	if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 && ! have postgres && ! pg_up; then
		echo postgresql
	fi
	have psql && have pg_isready || echo postgresql-client
	have redis-server || redis_up || echo redis-server
	have redis-cli || echo redis-tools
	# go test -race needs cgo, hence a C compiler and libc headers.
	have gcc || printf '%s\n' gcc libc6-dev
	have ffmpeg && have ffprobe || echo ffmpeg
	have nginx || [ -x /usr/sbin/nginx ] || echo nginx
	if [ "$bench" = 1 ]; then have wrk || echo wrk; fi
	if [ "$tests" = 1 ]; then have chromium || echo chromium; fi
	# promtool and prometheus: the alert rules' and the dashboard's tests (deploy/).
	if [ "$tests" = 1 ]; then have promtool && have prometheus || echo prometheus; fi
}

install_packages() {
	local -a need
	mapfile -t need < <(missing_packages)
	if [ "${#need[@]}" -eq 0 ]; then
		say "system packages: all present"
		return
	fi
	if ! have apt-get; then
		cat >&2 <<EOF
install-deps: missing: ${need[*]}
This script installs packages with apt (Debian/Ubuntu) only. Install these yourself:
  - PostgreSQL 15+ (server and client: psql, pg_isready)
  - Redis 6+ (redis-server, redis-cli)
  - ffmpeg (ffmpeg and ffprobe), nginx, a C compiler (gcc; go test -race needs cgo)
  - wrk (only for benchmarks), chromium (only for the tests)
For example: macOS  brew install postgresql@16 redis ffmpeg nginx wrk
             Fedora dnf install postgresql-server postgresql redis ffmpeg-free nginx gcc wrk
Then start PostgreSQL on $PG_HOST:$PG_PORT (user postgres, no password or a ~/.pgpass entry)
and Redis on $REDIS_HOST:$REDIS_PORT, and run this script again.
EOF
		exit 1
	fi
	apt_install "${need[@]}"
}

# pg_server_major prints the major version of the PostgreSQL server on
# $PG_HOST:$PG_PORT: asked of the server when it answers, else the local
# cluster on that port, else the newest installed server. PostGIS must be
# built for exactly that version, or CREATE EXTENSION cannot load it.
pg_server_major() {
	local num
	if have psql && num=$(psql "postgresql://postgres@$PG_HOST:$PG_PORT/postgres?connect_timeout=5" \
		-XtAc 'SHOW server_version_num' 2>/dev/null) && [ -n "$num" ]; then
		echo $((num / 10000))
		return
	fi
	if have pg_lsclusters; then
		num=$(pg_lsclusters --no-header 2>/dev/null | awk -v port="$PG_PORT" '$3 == port {print $1; exit}')
		if [ -n "$num" ]; then
			echo "$num"
			return
		fi
	fi
	find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -V | tail -n 1
}

# postgis_present reports whether the server (or, when it cannot be asked,
# the local installation of that major version) offers the postgis extension.
postgis_present() {
	local major=$1 out
	if have psql && out=$(psql "postgresql://postgres@$PG_HOST:$PG_PORT/postgres?connect_timeout=5" \
		-XtAc "SELECT count(*) FROM pg_available_extensions WHERE name = 'postgis'" 2>/dev/null); then
		[ "$out" != 0 ]
		return
	fi
	[ -e "/usr/share/postgresql/$major/extension/postgis.control" ]
}

# install_postgis adds the Debian package postgresql-<major>-postgis-3 for
# the server this machine runs (the map stores points and turf in PostGIS).
install_postgis() {
	case $PG_HOST in
	127.0.0.1 | localhost | ::1) ;;
	*)
		say "postgis: the server on $PG_HOST is not local; it needs PostGIS 3 installed there"
		return
		;;
	esac
	local major
	major=$(pg_server_major)
	if [ -z "$major" ]; then
		say "postgis: no PostgreSQL server found; skipped"
		return
	fi
	if postgis_present "$major"; then
		say "postgis: present for PostgreSQL $major"
		return
	fi
	local pkg="postgresql-$major-postgis-3"
	have apt-get || die "PostGIS 3 for PostgreSQL $major is missing: install it (Debian: $pkg; macOS: brew install postgis) and run this script again"
	apt_install "$pkg"
}

# go_install_pinned MODULE VERSION BINARY: go install MODULE@VERSION. go
# install also reads the module's version list (for a deprecation notice),
# which some module proxies refuse; then it builds the pinned version from a
# throwaway module, which asks for that version alone.
go_install_pinned() {
	local mod=$1 ver=$2 bin=$3 tmp
	if logged go install "$mod@$ver"; then
		return 0
	fi
	say "  go install $mod@$ver failed (see $INSTALL_LOG); building $ver from a throwaway module instead"
	tmp=$(mktemp -d)
	if (cd "$tmp" && logged go mod init cm-install-tmp && logged go get "$mod@$ver" && logged go build -o "$bin" "$mod"); then
		rm -rf "$tmp"
		return 0
	fi
	rm -rf "$tmp"
	return 1
}

install_go_tools() {
	have go || die "Go is not installed (need the version in go.mod or newer): https://go.dev/dl/"
	local gobin
	gobin=$(go env GOBIN)
	[ -n "$gobin" ] || gobin=$(go env GOPATH)/bin
	if have mailpit || [ -x "$gobin/mailpit" ]; then
		say "mailpit: present"
	else
		say "installing mailpit $MAILPIT_VERSION into $gobin with go install (a local mail catcher)."
		say "  It is compiled from source: this can take several minutes on a first run (output in $INSTALL_LOG)."
		logged go install "github.com/axllent/mailpit@$MAILPIT_VERSION" || die "go install mailpit failed"
		say "mailpit: installed"
	fi
	# goreman runs the Procfile in deploy/procfile_test.go, as an operator's
	# Procfile runner (foreman, honcho) would.
	if [ "$tests" = 1 ]; then
		if have goreman || [ -x "$gobin/goreman" ]; then
			say "goreman: present"
		else
			say "installing goreman $GOREMAN_VERSION into $gobin with go install (a Procfile runner, for the tests)"
			go_install_pinned github.com/mattn/goreman "$GOREMAN_VERSION" "$gobin/goreman" || die "installing goreman failed"
		fi
	fi
	# sqlc compiles storage/queries into Go (scripts/sqlc.sh); the version is
	# pinned because its output is committed and checked. It needs cgo (gcc).
	local sqlc_bin=sqlc
	have sqlc || sqlc_bin=$gobin/sqlc
	if [ "$("$sqlc_bin" version 2>/dev/null)" = "$SQLC_VERSION" ]; then
		say "sqlc: present"
	else
		say "installing sqlc $SQLC_VERSION into $gobin (go install with cgo; minutes the first time)"
		local out
		if ! out=$(CGO_ENABLED=1 go install "github.com/sqlc-dev/sqlc/cmd/sqlc@$SQLC_VERSION" 2>&1); then
			printf '%s\n' "$out" >&2
			die "go install sqlc failed"
		fi
	fi
}

# ---------------------------------------------------------------------------
# Starting

start_postgres() {
	if pg_up; then
		say "postgres: answering on $PG_HOST:$PG_PORT"
		return
	fi
	say "postgres: not answering on $PG_HOST:$PG_PORT; starting it"
	if systemd_running; then
		as_root systemctl start postgresql
	elif have pg_lsclusters; then
		# Debian's postgresql-common: start the cluster on our port, or create one.
		local clusters
		clusters=$(pg_lsclusters --no-header 2>/dev/null | awk -v port="$PG_PORT" '$3 == port {print $1, $2, $4}')
		if [ -z "$clusters" ]; then
			if [ -n "$(pg_lsclusters --no-header 2>/dev/null)" ]; then
				die "no PostgreSQL cluster uses port $PG_PORT (see pg_lsclusters); set CM_PG_PORT or create one"
			fi
			local version
			version=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1)
			say "postgres: creating cluster $version/main"
			as_root pg_createcluster "$version" main --port "$PG_PORT"
			clusters="$version main down"
		fi
		local ver name status
		while read -r ver name status; do
			[ "$status" = online ] && continue
			as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start
		done <<<"$clusters"
	elif have service && [ -e /etc/init.d/postgresql ]; then
		as_root service postgresql start
	else
		die "cannot start PostgreSQL here: start it yourself (e.g. pg_ctl -D \$PGDATA start as its owner)"
	fi
	wait_until "postgres on $PG_HOST:$PG_PORT" "$SERVICE_WAIT" pg_up
	say "postgres: up"
}

# ensure_pg_access makes `postgres@$PG_HOST:$PG_PORT` usable without a
# password in the URL, as DATABASE_URL's and the tests' defaults expect. A
# fresh Debian install asks for a password on TCP while the postgres role has
# none; then a random one is set and written to ~/.pgpass (which libpq and pgx
# both read). It is never printed.
ensure_pg_access() {
	local url="postgresql://postgres@$PG_HOST:$PG_PORT/postgres?connect_timeout=5"
	local out
	if out=$(psql "$url" -XtAc 'SELECT 1' 2>&1); then
		return
	fi
	case $out in
	*password* | *authentication*) ;;
	*) die "cannot connect to PostgreSQL as postgres: $out" ;;
	esac
	local has_password
	has_password=$(as_postgres psql -p "$PG_PORT" -XtAc \
		"SELECT rolpassword IS NOT NULL FROM pg_authid WHERE rolname = 'postgres'" 2>/dev/null || echo unknown)
	if [ "$has_password" != f ]; then
		die "PostgreSQL wants a password for postgres@$PG_HOST:$PG_PORT. Put it in ~/.pgpass
  ($PG_HOST:$PG_PORT:*:postgres:PASSWORD, mode 600), or set DATABASE_URL and TEST_DATABASE_URL."
	fi
	say "postgres: the postgres role has no password and TCP logins need one; setting a random one in ${PGPASSFILE:-~/.pgpass}"
	local pw
	pw=$(head -c 32 /dev/urandom | base64 | tr -d '\n=' | tr '+/' '-_')
	printf "ALTER ROLE postgres PASSWORD '%s';\n" "$pw" | as_postgres psql -p "$PG_PORT" -Xq
	local pgpass=${PGPASSFILE:-$HOME/.pgpass}
	(
		umask 077
		touch "$pgpass"
		printf '%s:%s:*:postgres:%s\n' "$PG_HOST" "$PG_PORT" "$pw" >>"$pgpass"
		[ "$PG_HOST" = localhost ] || printf 'localhost:%s:*:postgres:%s\n' "$PG_PORT" "$pw" >>"$pgpass"
	)
	chmod 600 "$pgpass"
	psql "$url" -XtAc 'SELECT 1' >/dev/null || die "still cannot connect to PostgreSQL as postgres"
}

start_redis() {
	if redis_up; then
		say "redis: answering on $REDIS_HOST:$REDIS_PORT"
		return
	fi
	say "redis: not answering on $REDIS_HOST:$REDIS_PORT; starting it"
	if systemd_running; then
		as_root systemctl start redis-server
	else
		# No init system: run it directly, without persistence (Postgres is the
		# source of truth; Redis only carries queues, caches and rate limits).
		local dir log
		if [ "$(id -u)" -eq 0 ]; then
			dir=/var/lib/redis log=/var/log/redis/changemaker.log
		else
			dir=${XDG_RUNTIME_DIR:-/tmp}/changemaker-redis-$(id -u) log=$dir/redis.log
		fi
		mkdir -p "$dir" "$(dirname "$log")"
		redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" \
			--save "" --appendonly no --dir "$dir" --logfile "$log"
	fi
	wait_until "redis on $REDIS_HOST:$REDIS_PORT" "$SERVICE_WAIT" redis_up
	say "redis: up"
}

if [ "$install" = 1 ]; then
	install_packages
	install_postgis
	install_go_tools
fi
if [ "$start" = 1 ]; then
	start_postgres
	ensure_pg_access
	start_redis
fi
