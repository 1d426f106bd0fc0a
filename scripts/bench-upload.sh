#!/usr/bin/env bash
# bench-upload.sh — a 1 GiB streamed upload to the media API, beside `cat` of
# the same file to the same disk and the same upload to a Fastify 5 server
# with @fastify/multipart (bench/fastify-upload). Results and method:
# docs/benchmarks.md, section "Media upload".
#
#   ./scripts/bench-upload.sh   # BENCH_UPLOAD_SIZE=1G BENCH_UPLOAD_ROUNDS=3 by default
#
# Each round measures, one at a time:
#   cat      wall time of `cat big > copy` into the work folder, then twice
#            more back to back ("catw"): on this kind of VM the first cat
#            after a pause writes into memory the host has taken back and
#            is 2–4× slower than the next ones, so both are reported;
#   media    wall time of `curl -F file=@big` to POST /api/media/videos
#            (multipart, streamed, SHA-256 on the way, temporary file renamed
#            into place, row in Postgres), and the media-api process's peak
#            RSS during that upload;
#   fastify  the same curl to bench/fastify-upload (stream to a temporary
#            file, rename; no hashing), and the node process's peak RSS.
# Peak RSS is VmHWM from /proc/PID/status, reset just before each upload by
# writing 5 to /proc/PID/clear_refs, so it is the peak of that upload; the
# resident size just before it is shown too. Every timed run holds the lock
# $BENCH_LOCK (flock; shared with the other benchmarks on the machine, so
# that no two ever overlap) and records the load average before and after.
# Each run starts by deleting the previous run's output and syncing.
#
# Not a test: it fails only when it cannot run. It uses its own Postgres
# database (changemaker_upbench, recreated), its own Redis server (nothing
# persisted), ports 4930-4933 (BENCH_UPLOAD_PORT_BASE moves them) and the
# work folder .bench/upload. Everything it starts is stopped, and the 1 GiB
# files are deleted, when it exits. Node.js 20+ and npm install Fastify into
# bench/fastify-upload/node_modules (npm ci) when it is missing.
set -euo pipefail

# --locked-run PID OUT CMD…: run CMD with stdout to OUT, under the lock, and
# print "seconds rss_before_kb peak_kb loadavg_before(3) loadavg_after(3)
# cmd_cpu_s server_cpu_s". PID 0 measures no server.
if [ "${1:-}" = "--locked-run" ]; then
	pid=$2 out=$3
	shift 3
	# The previous run's output goes just before this run starts, so that
	# every run writes into memory the previous one has just freed. (On this
	# kind of VM, page cache pages the guest has not touched for a while cost
	# the host a fault each: writing 1 GiB into them took cat 2.5–3.7 s
	# instead of 0.4 s.)
	rm -f "$WORK/copy" "$WORK/primer" "$WORK/fastify/"*
	find "$WORK/media" -type f -delete
	sync
	rss0=0 cpu0=0
	ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
	if [ "$pid" != 0 ]; then
		echo 5 >"/proc/$pid/clear_refs" # VmHWM := VmRSS
		rss0=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
		cpu0=$(ticks "$pid")
	fi
	read -r a1 a5 a15 _ </proc/loadavg
	s=$(date +%s.%N)
	/usr/bin/time -f '%U %S' -o "$out.cpu" "$@" >"$out"
	e=$(date +%s.%N)
	read -r b1 b5 b15 _ </proc/loadavg
	hwm=0 cpu1=0
	if [ "$pid" != 0 ]; then
		hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
		cpu1=$(ticks "$pid")
	fi
	cmdcpu=$(awk '{print $1 + $2}' "$out.cpu")
	srvcpu=$(echo "($cpu1 - $cpu0) / $(getconf CLK_TCK)" | bc -l)
	echo "$(echo "$e - $s" | bc -l) $rss0 $hwm $a1 $a5 $a15 $b1 $b5 $b15 $cmdcpu $srvcpu"
	exit 0
fi

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SELF=$ROOT/scripts/$(basename "${BASH_SOURCE[0]}")
cd "$ROOT"
SIZE=${BENCH_UPLOAD_SIZE:-1G}
ROUNDS=${BENCH_UPLOAD_ROUNDS:-3}
LOCK=${BENCH_LOCK:-/tmp/cm-bench.lock}
PG=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
WORK=$ROOT/.bench/upload
DB=changemaker_upbench
PORT_BASE=${BENCH_UPLOAD_PORT_BASE:-4930}
API_PORT=$PORT_BASE
MEDIA_PORT=$((PORT_BASE + 1))
FASTIFY_PORT=$((PORT_BASE + 2))
REDIS_PORT=$((PORT_BASE + 3))
PASSWORD=bench-Password-0123456789-not-a-secret
FASTIFY_DIR=$ROOT/bench/fastify-upload

for port in $API_PORT $MEDIA_PORT $FASTIFY_PORT $REDIS_PORT; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		echo "port $port is in use; stop what listens there first" >&2
		exit 1
	fi
done

PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$WORK/media" "$WORK/fastify" "$WORK/big.mp4" "$WORK/primer" "$WORK/copy" "$WORK/copy.cpu" "$WORK/redis"
	psql "$PG" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

rm -rf "$WORK" && mkdir -p "$WORK/media" "$WORK/fastify" "$WORK/redis"
go build -o "$WORK/changemaker" ./cmd/changemaker
if [ ! -d "$FASTIFY_DIR/node_modules" ]; then
	(cd "$FASTIFY_DIR" && npm ci --no-audit --no-fund --loglevel=error)
fi

redis-server --bind 127.0.0.1 --port $REDIS_PORT --save '' --appendonly no --dir "$WORK/redis" \
	--logfile "$WORK/redis.log" &
PIDS+=($!)
psql "$PG" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null
export DATABASE_URL=${PG%/*}/$DB?sslmode=disable REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0 \
	APP_ENV=production ACCESS_LOG=/dev/null LOG_LEVEL=warn \
	JWT_ACCESS_SECRET=bench-access-secret-0123456789abcdef0123 JWT_REFRESH_SECRET=bench-refresh-secret-0123456789abcdef012 \
	ENCRYPTION_KEY=bench-encryption-key-0123456789abcdef0123 MEDIA_ROOT=$WORK/media CORS_ORIGIN=http://127.0.0.1 \
	API_PORT=$API_PORT MEDIA_API_PORT=$MEDIA_PORT MEDIA_RATE_LIMIT=100000 LOGIN_RATE_LIMIT=1000
for _ in $(seq 50); do redis-cli -p $REDIS_PORT ping >/dev/null 2>&1 && break; sleep 0.1; done
"$WORK/changemaker" migrate up >/dev/null
"$WORK/changemaker" admin create-user --email bench@bench.invalid --role SUPER_ADMIN --password "$PASSWORD" >/dev/null
"$WORK/changemaker" api >"$WORK/api.log" 2>&1 &
PIDS+=($!)
"$WORK/changemaker" media-api >"$WORK/media.log" 2>&1 &
MEDIA_PID=$!
PIDS+=($MEDIA_PID)
UPLOAD_DIR=$WORK/fastify PORT=$FASTIFY_PORT node "$FASTIFY_DIR/server.js" >"$WORK/fastify.log" 2>&1 &
FASTIFY_PID=$!
PIDS+=($FASTIFY_PID)
up() { curl -fs "http://127.0.0.1:$MEDIA_PORT/health" >/dev/null && curl -fs "http://127.0.0.1:$API_PORT/api/health" >/dev/null &&
	curl -fs "http://127.0.0.1:$FASTIFY_PORT/health" >/dev/null; }
for _ in $(seq 100); do up && break; sleep 0.1; done
up || { echo "a server did not start; see $WORK/*.log" >&2; exit 1; }
TOKEN=$(curl -fs -H 'Content-Type: application/json' -d "{\"email\":\"bench@bench.invalid\",\"password\":\"$PASSWORD\"}" \
	"http://127.0.0.1:$API_PORT/api/auth/login" | sed -n 's/.*"accessToken":"\([^"]*\)".*/\1/p')
[ -n "$TOKEN" ] || { echo "login failed" >&2; exit 1; }

# An MP4 signature, then random bytes: the API accepts it (the probe would
# not, and no worker runs here).
{ printf '\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2'; head -c "$SIZE" /dev/urandom; } >"$WORK/big.mp4"
BYTES=$(stat -c %s "$WORK/big.mp4")
cat "$WORK/big.mp4" >"$WORK/primer" # the source is in the page cache for every run alike; the first run frees the primer
export WORK

run() { flock "$LOCK" "$SELF" --locked-run "$@"; }
results=()
for round in $(seq "$ROUNDS"); do
	r=$(run 0 "$WORK/copy" cat "$WORK/big.mp4")
	results+=("cat $round $r")
	for _ in 1 2; do
		r=$(run 0 "$WORK/copy" cat "$WORK/big.mp4")
		results+=("catw $round $r")
	done

	r=$(run "$MEDIA_PID" "$WORK/code" curl -s -o "$WORK/upload.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
		-F "file=@$WORK/big.mp4;type=video/mp4" "http://127.0.0.1:$MEDIA_PORT/api/media/videos")
	[ "$(cat "$WORK/code")" = 201 ] || { echo "media upload answered $(cat "$WORK/code"): $(cat "$WORK/upload.json")" >&2; exit 1; }
	results+=("media $round $r")
	# Delete it (soft; frees the content hash for the next round). Its file
	# goes when the next run starts.
	id=$(sed -n 's/^{"id":\([0-9]*\).*/\1/p' "$WORK/upload.json")
	curl -fs -o /dev/null -X DELETE -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$MEDIA_PORT/api/media/videos/$id"

	r=$(run "$FASTIFY_PID" "$WORK/code" curl -s -o "$WORK/fastify.json" -w '%{http_code}' \
		-F "file=@$WORK/big.mp4;type=video/mp4" "http://127.0.0.1:$FASTIFY_PORT/upload")
	[ "$(cat "$WORK/code")" = 201 ] || { echo "fastify upload answered $(cat "$WORK/code"): $(cat "$WORK/fastify.json")" >&2; exit 1; }
	grep -q "\"size\":$BYTES" "$WORK/fastify.json" || { echo "fastify stored $(cat "$WORK/fastify.json"), want $BYTES bytes" >&2; exit 1; }
	results+=("fastify $round $r")
done
rm -f "$WORK/copy" "$WORK/primer" "$WORK/fastify/"*
find "$WORK/media" -type f -delete

median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
col() { printf '%s\n' "${results[@]}" | awk -v k="$1" -v c="$2" '$1 == k {print $c}'; }
mib() { echo "scale=0; $1 / 1024" | bc; }
CAT=$(col cat 3 | median)
# Each round's best cat of its three.
best_cat() { printf '%s\n' "${results[@]}" | awk '$1 == "cat" || $1 == "catw" {if (!($2 in m) || $3 < m[$2]) m[$2] = $3} END {for (k in m) print k, m[k]}' | sort -n | awk '{print $2}'; }
CATB=$(best_cat | median)
# SHA-256 alone, on one core of this machine (Go's crypto/sha256, SHA-NI where the CPU has it).
SHA_MBS=$(go test -run '^$' -bench '^BenchmarkSHA256$' -benchtime 2s ./storage/blob | awk '/^BenchmarkSHA256/ {for (i = 1; i <= NF; i++) if ($i == "MB/s") print $(i - 1)}')
SHA_S=$(echo "$BYTES / ($SHA_MBS * 1000000)" | bc -l)
MEDIA=$(col media 3 | median)
FASTIFY=$(col fastify 3 | median)
MEDIA_HWM=$(col media 5 | median)
FASTIFY_HWM=$(col fastify 5 | median)
MEDIA_RSS0=$(col media 4 | median)
FASTIFY_RSS0=$(col fastify 4 | median)
ratio() { printf '%.2f' "$(echo "$1 / $2" | bc -l)"; }

echo
echo "Every run (${BYTES} bytes; CPU in seconds, user + system; load average 1, 5, 15 min):"
printf '| run | round | wall time | CPU of curl/cat | CPU of the server | RSS before | peak RSS during | load avg before → after |\n'
printf '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n'
for line in "${results[@]}"; do
	set -- $line
	if [ "$1" = cat ] || [ "$1" = catw ]; then rss="–" hwm="–" srv="–"; else
		rss="$(mib "$4") MiB" hwm="$(mib "$5") MiB" srv=$(printf '%.2f s' "${13}"); fi
	printf '| %s | %s | %.2f s | %.2f s | %s | %s | %s | %s %s %s → %s %s %s |\n' "$1" "$2" "$3" "${12}" "$srv" "$rss" "$hwm" \
		"$6" "$7" "$8" "$9" "${10}" "${11}"
done
echo
echo "Medians of $ROUNDS rounds:"
printf '| | wall time | × cat | × best cat | CPU of the server | peak RSS during the upload (RSS before it) |\n'
printf '| --- | ---: | ---: | ---: | ---: | ---: |\n'
printf '| `cat` to the same disk, first of the round | %.2f s | 1.00× | %s× | – | – |\n' "$CAT" "$(ratio "$CAT" "$CATB")"
printf '| `cat`, best of the round'"'"'s three | %.2f s | %s× | 1.00× | – | – |\n' "$CATB" "$(ratio "$CATB" "$CAT")"
printf '| media API (SHA-256 included) | %.2f s | %s× | %s× | %.2f s | %s MiB (%s MiB) |\n' "$MEDIA" "$(ratio "$MEDIA" "$CAT")" \
	"$(ratio "$MEDIA" "$CATB")" "$(col media 13 | median)" "$(mib "$MEDIA_HWM")" "$(mib "$MEDIA_RSS0")"
printf '| Fastify 5 + @fastify/multipart (no hashing) | %.2f s | %s× | %s× | %.2f s | %s MiB (%s MiB) |\n' "$FASTIFY" \
	"$(ratio "$FASTIFY" "$CAT")" "$(ratio "$FASTIFY" "$CATB")" "$(col fastify 13 | median)" "$(mib "$FASTIFY_HWM")" "$(mib "$FASTIFY_RSS0")"
printf '| SHA-256 of the file alone, one core (%s MB/s) | %.2f s | %s× | %s× | – | – |\n' "$SHA_MBS" "$SHA_S" \
	"$(ratio "$SHA_S" "$CAT")" "$(ratio "$SHA_S" "$CATB")"
# The machine's speed drifts between rounds (other work, the page cache), so
# each round's uploads are also set against that round's cat.
per_round() { paste -d' ' <(col "$1" 3) <(col cat 3) | awk '{printf "%.2f\n", $1 / $2}'; }
MEDIA_X=$(per_round media | median)
FASTIFY_X=$(per_round fastify | median)
echo
echo "Each round ÷ its own cat: media $(per_round media | paste -sd' ')× (median ${MEDIA_X}×);" \
	"Fastify $(per_round fastify | paste -sd' ')× (median ${FASTIFY_X}×)"
echo
met() { if [ "$(echo "$1" | bc -l)" = 1 ]; then echo met; else echo "NOT met"; fi; }
echo "Target: media ≤ 2× cat → medians $(ratio "$MEDIA" "$CAT")×, $(met "$MEDIA <= 2 * $CAT"); per round (median) ${MEDIA_X}×, $(met "$MEDIA_X <= 2")"
echo "        against the best cat → $(ratio "$MEDIA" "$CATB")×, $(met "$MEDIA <= 2 * $CATB") (SHA-256 alone is $(ratio "$SHA_S" "$CATB")× the best cat)"
echo "Target: media peak RSS < ½ Fastify's → $(ratio "$MEDIA_HWM" "$FASTIFY_HWM")×, $(met "$MEDIA_HWM * 2 < $FASTIFY_HWM")"
echo
echo "Machine: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB;" \
	"Linux $(uname -r); disk: $(findmnt -no SOURCE,FSTYPE --target "$WORK" | tr -s ' ') ($(df -h --output=size "$WORK" | tail -1 | tr -d ' '))," \
	"rotational=$(cat "/sys/block/$(basename "$(findmnt -no SOURCE --target "$WORK")")/queue/rotational" 2>/dev/null || echo '?')"
echo "Software: $(go version | cut -d' ' -f3), Node.js $(node --version)," \
	"Fastify $(node -p "require('$FASTIFY_DIR/node_modules/fastify/package.json').version")," \
	"@fastify/multipart $(node -p "require('$FASTIFY_DIR/node_modules/@fastify/multipart/package.json').version")," \
	"$(curl --version | head -1 | cut -d' ' -f1-2); commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD 2>/dev/null || echo ' (uncommitted changes)')"
echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'); uptime at the end: $(uptime)"
