#!/usr/bin/env bash
# Runs every Go fuzz target of the module for FUZZTIME each (default 1m).
#   FUZZTIME=10m JOBS=3 PARALLEL=1 ./scripts/fuzz.sh          # all targets
#   FUZZTIME=30s ./scripts/fuzz.sh FuzzParseRange FuzzReader   # some of them
# JOBS targets run at once, each with PARALLEL fuzzing workers (go test
# -parallel; default 1, so JOBS is the number of busy cores). Each target's
# output goes to tmp/fuzz/<target>.log; a target that fails leaves its
# crasher in its package's testdata/fuzz/<target>/, to be committed as a
# seed once the bug is fixed. Exits non-zero when any target failed.
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZTIME=${FUZZTIME:-1m}
JOBS=${JOBS:-2}
PARALLEL=${PARALLEL:-1}
GO=${GO:-go}
export GO FUZZTIME PARALLEL

# "package-dir target" for every func FuzzXxx(f *testing.F) in a test file.
targets=$(grep -rlE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' . |
	while read -r file; do
		dir=$(dirname "$file")
		grep -oE '^func Fuzz[A-Za-z0-9_]*' "$file" | sed "s|^func |$dir |"
	done | sort)
if [ $# -gt 0 ]; then
	want=" $* "
	targets=$(echo "$targets" | while read -r dir name; do
		case "$want" in *" $name "*) echo "$dir $name" ;; esac
	done)
fi
[ -n "$targets" ] || { echo "fuzz: no targets" >&2; exit 1; }

mkdir -p tmp/fuzz
echo "fuzz: $(echo "$targets" | wc -l) targets, $FUZZTIME each, $JOBS at a time, -parallel=$PARALLEL"
run_one() {
	local dir=$1 name=$2 log=tmp/fuzz/$2.log
	if "$GO" test -run='^$' -fuzz="^$name\$" -fuzztime="$FUZZTIME" -parallel="$PARALLEL" "$dir" >"$log" 2>&1; then
		echo "ok    $name ($dir) $(grep -oE 'execs: [0-9]+' "$log" | tail -1)"
	else
		echo "FAIL  $name ($dir): see $log"
		return 1
	fi
}
export -f run_one
echo "$targets" | xargs -P "$JOBS" -L 1 bash -c 'run_one "$0" "$1"'
