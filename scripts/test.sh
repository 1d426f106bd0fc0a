#!/usr/bin/env bash
# test.sh — the whole check, as CI runs it (.ci/run calls this script).
#
#   ./scripts/test.sh                 gofmt, sqlc check, go vet, go test -race ./...
#   ./scripts/test.sh ./api/... -run TestLogin   (arguments replace ./... for go test)
#
# Installs what is missing and starts Postgres and Redis (scripts/install-deps.sh),
# then runs the checks. Tests use the real servers on 127.0.0.1: each test
# gets its own database cloned from a migrated template and its own Redis
# database (1–15). TEST_DATABASE_URL and TEST_REDIS_ADDR point them elsewhere.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then PATH=$PATH:/usr/local/go/bin; fi

scripts/install-deps.sh --test

step() { printf '\n==> %s\n' "$*"; }

step "gofmt"
unformatted=$(find . -name '*.go' -not -path './.git/*' -not -path './vendor/*' -not -path './tmp/*' \
	-not -path '*/testdata/*' -print0 | xargs -0 -r gofmt -l)
if [ -n "$unformatted" ]; then
	echo "these files need gofmt -w:" >&2
	sed 's/^/  /' <<<"$unformatted" >&2
	exit 1
fi

step "sqlc: storage/internal/db is what storage/queries compile to"
scripts/sqlc.sh check

step "go vet ./..."
go vet ./...

if [ "$#" -eq 0 ]; then set -- ./...; fi
step "go test -race -count=1 $*"
go test -race -count=1 "$@"

step "all checks passed"
