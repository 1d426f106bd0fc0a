#!/usr/bin/env bash
# bench-upload.sh — a 1 GiB streamed upload to the media API, against `cat`
# of the same file to the same disk (docs/benchmarks.md, "Media upload").
#
#   ./scripts/bench-upload.sh            # BENCH_UPLOAD_SIZE=1G by default
#
# Measures: wall time of `cat big > copy` on the media root's disk; wall time
# of `curl -F file=@big` to POST /api/media/videos (multipart, streamed,
# SHA-256 computed on the way, temp file renamed into place); the media-api
# process's peak RSS (VmHWM) before and after. Not a test: it only fails when
# it cannot run. The Fastify 5 + @fastify/multipart baseline is not driven
# here.
#
# Uses its own database (changemaker_upbench, recreated), Redis DB 0, ports
# 4910/4911 and a work folder .bench/upload; everything it starts is stopped.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
SIZE=${BENCH_UPLOAD_SIZE:-1G}
PG=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
WORK=$ROOT/.bench/upload
DB=changemaker_upbench
API_PORT=4910
MEDIA_PORT=4911
PASSWORD=bench-Password-0123456789-not-a-secret
rm -rf "$WORK" && mkdir -p "$WORK/media"
go build -o "$WORK/changemaker" ./cmd/changemaker
psql "$PG" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null
export DATABASE_URL=${PG%/*}/$DB?sslmode=disable APP_ENV=development ACCESS_LOG=off LOG_LEVEL=warn \
	JWT_ACCESS_SECRET=bench-access-secret-0123456789abcdef0123 JWT_REFRESH_SECRET=bench-refresh-secret-0123456789abcdef012 \
	ENCRYPTION_KEY=bench-encryption-key-0123456789abcdef0123 MEDIA_ROOT=$WORK/media \
	API_PORT=$API_PORT MEDIA_API_PORT=$MEDIA_PORT MEDIA_RATE_LIMIT=100000 LOGIN_RATE_LIMIT=1000
"$WORK/changemaker" migrate up >/dev/null
"$WORK/changemaker" admin create-user --email bench@bench.invalid --role SUPER_ADMIN --password "$PASSWORD" >/dev/null
"$WORK/changemaker" api >"$WORK/api.log" 2>&1 &
API_PID=$!
"$WORK/changemaker" media-api >"$WORK/media.log" 2>&1 &
MEDIA_PID=$!
trap 'kill $API_PID $MEDIA_PID 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK/media" "$WORK/big.mp4" "$WORK/copy"' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$MEDIA_PORT/health" >/dev/null && curl -fs "http://127.0.0.1:$API_PORT/api/health" >/dev/null && break; sleep 0.1; done
TOKEN=$(curl -fs -H 'Content-Type: application/json' -d "{\"email\":\"bench@bench.invalid\",\"password\":\"$PASSWORD\"}" \
	"http://127.0.0.1:$API_PORT/api/auth/login" | sed -n 's/.*"accessToken":"\([^"]*\)".*/\1/p')
[ -n "$TOKEN" ] || { echo "login failed" >&2; exit 1; }

# An MP4 signature, then random bytes: the API accepts it; the probe would not.
{ printf '\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2'; head -c "$SIZE" /dev/urandom; } >"$WORK/big.mp4"
BYTES=$(stat -c %s "$WORK/big.mp4")
sync
hwm() { awk '/VmHWM/ {print $2}' "/proc/$MEDIA_PID/status"; }
now() { date +%s.%N; }
RSS0=$(hwm)
t0=$(now); cat "$WORK/big.mp4" >"$WORK/copy"; t1=$(now)
CAT=$(echo "$t1 - $t0" | bc -l)
rm -f "$WORK/copy"
t0=$(now)
CODE=$(curl -s -o "$WORK/upload.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
	-F "file=@$WORK/big.mp4;type=video/mp4" "http://127.0.0.1:$MEDIA_PORT/api/media/videos")
t1=$(now)
UP=$(echo "$t1 - $t0" | bc -l)
RSS1=$(hwm)
[ "$CODE" = 201 ] || { echo "upload answered $CODE: $(cat "$WORK/upload.json")" >&2; exit 1; }
printf '| file | cat to disk | upload (with SHA-256) | ratio | media-api peak RSS before → after |\n'
printf '| --- | --- | --- | --- | --- |\n'
printf '| %d MiB | %.2f s | %.2f s | %.2f× | %d MiB → %d MiB |\n' $((BYTES >> 20)) "$CAT" "$UP" "$(echo "$UP / $CAT" | bc -l)" $((RSS0 / 1024)) $((RSS1 / 1024))
