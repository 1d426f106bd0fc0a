#!/usr/bin/env bash
# sqlc.sh — the SQL in storage/queries/*.sql, compiled by sqlc into
# storage/internal/db (configuration: sqlc.yaml).
#
#   scripts/sqlc.sh generate   regenerate storage/internal/db (make generate)
#   scripts/sqlc.sh check      fail when the committed storage/internal/db is
#                              not what sqlc makes of the committed SQL
#
# check generates into a temporary copy of the inputs and compares, so it
# neither touches nor trusts the work tree's state. sqlc itself is installed
# by scripts/install-deps.sh (pinned: SQLC_VERSION there).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then PATH=$PATH:/usr/local/go/bin; fi
gobin=$(go env GOBIN)
[ -n "$gobin" ] || gobin=$(go env GOPATH)/bin
PATH=$PATH:$gobin

want=$(sed -n 's/^SQLC_VERSION=//p' scripts/install-deps.sh)
if ! command -v sqlc >/dev/null 2>&1 || [ "$(sqlc version 2>/dev/null)" != "$want" ]; then
	echo "sqlc.sh: sqlc $want is not installed; run scripts/install-deps.sh --no-start" >&2
	exit 1
fi

case ${1:-} in
generate)
	sqlc generate -f sqlc.yaml
	;;
check)
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	mkdir -p "$tmp/storage"
	cp sqlc.yaml "$tmp/"
	cp -R migrations "$tmp/migrations"
	cp -R storage/queries "$tmp/storage/queries"
	(cd "$tmp" && sqlc generate -f sqlc.yaml)
	if ! diff -ru storage/internal/db "$tmp/storage/internal/db"; then
		echo "sqlc.sh: storage/internal/db is not what sqlc generates from storage/queries;" \
			"run make generate and commit the result" >&2
		exit 1
	fi
	;;
*)
	echo "usage: scripts/sqlc.sh generate|check" >&2
	exit 2
	;;
esac
