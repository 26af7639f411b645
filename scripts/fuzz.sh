#!/usr/bin/env bash
# Runs every fuzz target of the module (every package, as scripts/test.sh
# finds them) one at a time, each for DURATION, and prints the executions of
# each target at the end.
#
#   scripts/fuzz.sh [DURATION]     DURATION as go test's -fuzztime (default 10m;
#                                  "30s", "1h", or "5000x" for a count)
#   GDHTTP_FUZZ_PARALLEL=2         fuzzing workers per target (default 1; the
#                                  machine has 2 cores)
#   GDHTTP_FUZZ_MINIMIZE=100x      -fuzzminimizetime (default 100x: the whole-stack
#                                  targets run 10-100 inputs/s, so Go's default of
#                                  60s per new input would eat the run)
#   GDHTTP_FUZZ_MATCH=Stack        run only the targets whose name matches this
#                                  regular expression (default: all)
#
# A target that fails stops only itself: the others still run, and the script
# exits 1 at the end, naming the failures (the failing input is written under
# the package's testdata/fuzz/<Target>/ by go test). Go 1.26's coordinator can
# report a bare "context deadline exceeded" when the time runs out mid-call
# (golang/go#75804): such a run writes no input and is reported, not failed.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10m}
parallel=${GDHTTP_FUZZ_PARALLEL:-1}
minimize=${GDHTTP_FUZZ_MINIMIZE:-100x}
match=${GDHTTP_FUZZ_MATCH:-.}
export GOFLAGS=${GOFLAGS:--buildvcs=false}

summary=()
failed=()
logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT

for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	targets=$(cd "$dir" && go test -list '^Fuzz' . 2>/dev/null | grep '^Fuzz' || true)
	for target in $targets; do
		if ! [[ $target =~ $match ]]; then
			continue
		fi
		log="$logdir/${target}.log"
		echo "=== $pkg $target ($duration, -parallel $parallel)"
		start=$(date +%s)
		status=ok
		if ! (cd "$dir" && go test -run '^$' -fuzz "^${target}\$" -fuzztime "$duration" \
			-fuzzminimizetime "$minimize" -parallel "$parallel" . >"$log" 2>&1); then
			if grep -q 'context deadline exceeded' "$log" && ! grep -qE 'Failing input written|panic:|_test\.go:[0-9]+:' "$log"; then
				status="ok (fuzztime boundary race, golang/go#75804)"
			else
				status=FAIL
				failed+=("$pkg $target")
				cat "$log"
			fi
		fi
		tail -n 3 "$log"
		execs=$(grep -oE 'execs: [0-9]+' "$log" | tail -n 1 | grep -oE '[0-9]+' || echo 0)
		interesting=$(grep -oE 'new interesting: [0-9]+' "$log" | tail -n 1 | grep -oE '[0-9]+' || echo 0)
		secs=$(($(date +%s) - start))
		summary+=("$(printf '%-40s %-22s %12s execs %6s new  %5ss  %s' "$pkg" "$target" "$execs" "$interesting" "$secs" "$status")")
	done
done

echo
echo "=== executions per target"
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
	echo
	echo "FAILED:"
	printf '  %s\n' "${failed[@]}"
	exit 1
fi
