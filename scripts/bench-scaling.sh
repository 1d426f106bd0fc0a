#!/usr/bin/env bash
# bench-scaling.sh — the fleet-scaling benchmark of docs/benchmarks.md
# (section "Scaling the worker fleets").
#
#   ./scripts/bench-scaling.sh
#
# For the email fleet and the media fleet, with 1, 2 and 4 worker processes
# (bin/changemaker worker --queues email|media): queues BENCH_SCALING_EMAILS
# campaign emails (delivered to an SMTP server inside bench/scaling) or
# BENCH_SCALING_VIDEOS videos (hard links of a sample clip made here with
# ffmpeg; each is probed with ffprobe and gets its thumbnail from ffmpeg),
# starts the processes and times the batch to its end. It reports, per run,
# the throughput, the speed-up over one process, and the CPU (in cores) of
# the workers (ffprobe/ffmpeg included), the Postgres backends of its
# database, its Redis server, the SMTP server, and the whole machine, read
# from /proc: where the machine saturates and which part does.
#
# The measured processes run at normal priority; the load average before
# and after is recorded with the results. It is a benchmark: it exits
# non-zero only when it cannot run.
#
# Uses its own database (changemaker_bench_scaling, dropped and recreated),
# its own Redis server (a free port from BENCH_REDIS_PORT, nothing persisted,
# stopped at the end), holds /tmp/cm-bench.lock (flock) while it measures,
# and writes .bench/scaling/results.md (paste it into docs/benchmarks.md).
#
# Environment: BENCH_SCALING_EMAILS [2000] BENCH_SCALING_VIDEOS [40]
#   BENCH_SCALING_WORKERS [1,2,4] BENCH_SCALING_FLEETS [email,media]
#   BENCH_EMAIL_CONCURRENCY [10] BENCH_MEDIA_CONCURRENCY [2] (each process's --concurrency)
#   BENCH_SCALING_CLIP [10] (seconds of the 1280x720 sample clip)
#   BENCH_PG_URL [postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable]
#   BENCH_REDIS_PORT [4945] BENCH_LOCK [/tmp/cm-bench.lock]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then PATH=$PATH:/usr/local/go/bin; fi

EMAILS=${BENCH_SCALING_EMAILS:-2000}
VIDEOS=${BENCH_SCALING_VIDEOS:-40}
WORKERS=${BENCH_SCALING_WORKERS:-1,2,4}
FLEETS=${BENCH_SCALING_FLEETS:-email,media}
EMAIL_CONC=${BENCH_EMAIL_CONCURRENCY:-10}
MEDIA_CONC=${BENCH_MEDIA_CONCURRENCY:-2}
CLIP=${BENCH_SCALING_CLIP:-10}
PG_URL=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
LOCK=${BENCH_LOCK:-/tmp/cm-bench.lock}
DB_NAME=changemaker_bench_scaling
WORK=$ROOT/.bench/scaling

BENCH_NAME=bench-scaling.sh
# shellcheck source=scripts/lib/bench.sh
. "$ROOT/scripts/lib/bench.sh"
need go psql flock redis-server ffmpeg ffprobe

rm -rf "$WORK/media"
mkdir -p "$WORK/media" bin
start_redis "${BENCH_REDIS_PORT:-4945}"

build_binaries scaling

say "making a ${CLIP}s 1280x720 H.264/AAC sample clip with ffmpeg"
ffmpeg -v error -y -f lavfi -i "testsrc2=size=1280x720:rate=30" -f lavfi -i "sine=frequency=440:sample_rate=48000" \
	-t "$CLIP" -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -movflags +faststart "$WORK/media/sample.mp4"

fresh_database "$DB_NAME"

migrate_production scaling

say "waiting for $LOCK"
status=0
{
	flock 9
	LOAD0=$(loadavg)
	TIME=$(date -u '+%Y-%m-%d %H:%M UTC')
	"$WORK/scaling" -bin bin/changemaker -emails "$EMAILS" -videos "$VIDEOS" -workers "$WORKERS" -fleets "$FLEETS" \
		-email-concurrency "$EMAIL_CONC" -media-concurrency "$MEDIA_CONC" \
		-media-root "$WORK/media" -sample "$WORK/media/sample.mp4" -redis-pid "$REDIS_PID" \
		-log "$WORK/workers.log" >"$WORK/table.md" || status=$?
	LOAD1=$(loadavg)
} 9>"$LOCK"
[ "$status" = 0 ] && [ -s "$WORK/table.md" ] || die "bench/scaling failed (exit $status); see $WORK/workers.log"
{
	cat "$WORK/table.md"
	echo
	echo "- Machine: $(awk -F': *' '/^model name/{print $2; exit}' /proc/cpuinfo), $(nproc) cores, $(awk '/^MemTotal/{printf "%.0f GiB", $2 / 1048576}' /proc/meminfo); $(uname -sr); shared with other users' builds and tests (load average $LOAD0 before, $LOAD1 after)"
	echo "- Software: $(go env GOVERSION), PostgreSQL $(psql "$PG_URL" -Atc 'SHOW server_version' | cut -d' ' -f1), Redis $(redis-server --version | awk '{print $3}' | tr -d v=), $(ffmpeg -version | head -n1 | awk '{print $1, $3}'); build \`$VERSION\`; run $TIME"
	echo "- Sample clip: ${CLIP} s, 1280x720, H.264 and AAC, $(stat -c %s "$WORK/media/sample.mp4") bytes; email worker --concurrency $EMAIL_CONC, media worker --concurrency $MEDIA_CONC"
} >"$WORK/results.md"
cat "$WORK/results.md"
say "results in $WORK/results.md; paste them into docs/benchmarks.md"
