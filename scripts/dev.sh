#!/usr/bin/env bash
# dev.sh — from a fresh checkout to a running Changemaker, in one command.
#
#   ./scripts/dev.sh
#
# 1. installs what is missing (scripts/install-deps.sh: the screen lists
#    what and why, apt's output goes to tmp/install.log; nginx's system
#    service is disabled after it is installed) and starts Postgres and Redis
#    when they are not answering;
# 2. creates the database named in DATABASE_URL when it does not exist;
# 3. writes .env with random secrets on the first run (never printed) and
#    loads it;
# 4. starts mailpit (SMTP 1025, web UI 8025) in the background when nothing
#    listens on the SMTP port;
# 5. builds bin/changemaker, migrates, creates the SUPER_ADMIN admin@localhost
#    the first time (printing its generated password once);
# 6. runs `bin/changemaker all` in the foreground (Ctrl-C stops it).
#
# CM_SKIP_DEPS=1 skips the installation step (services are still started).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

say() { printf '==> %s\n' "$*"; }
die() {
	printf 'dev.sh: %s\n' "$*" >&2
	exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

if ! have go && [ -x /usr/local/go/bin/go ]; then PATH=$PATH:/usr/local/go/bin; fi

# 1. Dependencies and services.
if [ "${CM_SKIP_DEPS:-0}" = 1 ]; then
	scripts/install-deps.sh --start-only
else
	scripts/install-deps.sh
fi
have go || die "Go is not installed: https://go.dev/dl/"
GOBIN_DIR=$(go env GOBIN)
[ -n "$GOBIN_DIR" ] || GOBIN_DIR=$(go env GOPATH)/bin
PATH=$PATH:$GOBIN_DIR

# 3. .env: created once, completed when a secret is missing. Secrets are
# 64 URL-safe characters from /dev/urandom; they go to the file only.
secret() { head -c 48 /dev/urandom | base64 | tr -d '\n=' | tr '+/' '-_'; }
if [ ! -f .env ]; then
	say "creating .env (random secrets; see .env.example for every variable)"
	(
		umask 077
		cat >.env <<'EOF'
# Written by scripts/dev.sh for local development. Not committed (.gitignore).
# Every variable, with its default, is documented in .env.example.
APP_ENV=development
DATABASE_URL=postgres://postgres@127.0.0.1:5432/changemaker?sslmode=disable
REDIS_URL=redis://127.0.0.1:6379/0
SMTP_HOST=127.0.0.1
SMTP_PORT=1025
SMTP_TLS=none
EOF
	)
fi
for var in JWT_ACCESS_SECRET JWT_REFRESH_SECRET ENCRYPTION_KEY; do
	if ! grep -Eq "^${var}=.{48,}" .env; then
		grep -Eq "^${var}=" .env && die ".env: $var is shorter than 48 characters; fix or delete the line and run again"
		printf '%s=%s\n' "$var" "$(secret)" >>.env
	fi
done
chmod 600 .env
set -a
# shellcheck disable=SC1091
. ./.env
set +a
DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/changemaker?sslmode=disable}

# 2. The database.
db_name=$(sed -E 's#^[^/]*//[^/]*/([^?]*).*#\1#' <<<"$DATABASE_URL")
admin_url=$(sed -E 's#^([^/]*//[^/]*/)[^?]*#\1postgres#' <<<"$DATABASE_URL")
[[ $db_name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "unexpected database name '$db_name' in DATABASE_URL"
if [ "$(psql "$admin_url" -XtAc "SELECT 1 FROM pg_database WHERE datname = '$db_name'")" != 1 ]; then
	say "creating database $db_name"
	psql "$admin_url" -Xqc "CREATE DATABASE \"$db_name\""
fi

# 4. mailpit, detached so that it outlives this script and catches mail for
# every later run. Its UI: http://localhost:8025.
smtp_host=${SMTP_HOST:-127.0.0.1} smtp_port=${SMTP_PORT:-1025}
mkdir -p tmp
case $smtp_host in
127.0.0.1 | localhost)
	if port_open 127.0.0.1 "$smtp_port"; then
		say "smtp: something already listens on $smtp_port (mailpit?)"
	else
		have mailpit || die "mailpit is not installed (scripts/install-deps.sh installs it)"
		say "starting mailpit: SMTP 127.0.0.1:$smtp_port, UI http://localhost:8025 (log: tmp/mailpit.log)"
		if have setsid; then
			setsid mailpit --smtp "127.0.0.1:$smtp_port" --listen 127.0.0.1:8025 >tmp/mailpit.log 2>&1 </dev/null &
		else
			nohup mailpit --smtp "127.0.0.1:$smtp_port" --listen 127.0.0.1:8025 >tmp/mailpit.log 2>&1 </dev/null &
		fi
		echo $! >tmp/mailpit.pid
		for _ in $(seq 1 40); do
			if port_open 127.0.0.1 "$smtp_port"; then break; fi
			sleep 0.25
		done
		port_open 127.0.0.1 "$smtp_port" || die "mailpit did not start; see tmp/mailpit.log"
	fi
	;;
*) say "smtp: using $smtp_host:$smtp_port from .env; not starting mailpit" ;;
esac

# 5. Build, migrate, first admin.
say "building bin/changemaker"
version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
go build -ldflags "-X main.version=$version" -o bin/changemaker ./cmd/changemaker
say "migrating"
bin/changemaker migrate up

if out=$(bin/changemaker admin create-user --email admin@localhost --role SUPER_ADMIN --name Admin 2>&1); then
	say "created the first admin (email admin@localhost):"
	sed 's/^/    /' <<<"$out"
elif grep -q "already exists" <<<"$out"; then
	say "admin@localhost already exists. To add another admin:"
	echo "    bin/changemaker admin create-user --email you@example.org --role SUPER_ADMIN"
	echo "    (with .env loaded: set -a; . ./.env; set +a)"
else
	printf '%s\n' "$out" >&2
	die "could not create the admin user"
fi

# 6. Run everything in this process.
for port in "${API_PORT:-4000}" "${MEDIA_API_PORT:-4100}" "${QUEUES_PORT:-8080}"; do
	if port_open 127.0.0.1 "$port"; then
		die "port $port is in use (another changemaker? see: ss -ltnp 'sport = :$port'); stop it and run again"
	fi
done
cat <<EOF
==> starting changemaker all (Ctrl-C stops it)
    main API         http://localhost:${API_PORT:-4000}/api/health
    media API        http://localhost:${MEDIA_API_PORT:-4100}/api/media/health
    queue dashboard  http://localhost:${API_PORT:-4000}/api/admin/queues  (also :${QUEUES_PORT:-8080})
    mail catcher     http://localhost:8025
EOF
exec bin/changemaker all
