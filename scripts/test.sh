#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this script).
#
#   scripts/test.sh            everything: real peers (installed and started by
#                              scripts/peers.sh), gofmt, vet, staticcheck, the race-enabled
#                              shuffled test suite (and, without -race, the long tests it
#                              skips), a short run of every fuzz target, and a
#                              compile-and-run-once pass over the benchmarks module.
#   GDHTTP_NO_PEERS=1 scripts/test.sh   the same without installing/starting real peers
#                              (tests that need them skip with a message).
#   GDHTTP_FUZZTIME=5s         how long each fuzz target runs (default 5s; scripts/fuzz.sh runs long ones).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
fuzztime=${GDHTTP_FUZZTIME:-4s}
export GOFLAGS=${GOFLAGS:--buildvcs=false}

step() { printf '\n=== %s (%ds in)\n' "$*" "$SECONDS"; }

cleanup() {
	if [ -n "${peers_started:-}" ]; then
		scripts/peers.sh stop >/dev/null 2>&1 || true
	fi
}
trap cleanup EXIT

if [ -z "${GDHTTP_NO_PEERS:-}" ] && [ -x scripts/peers.sh ]; then
	step "real peers (nginx, httpbin, proxy, curl)"
	peers_log=$(mktemp)
	if scripts/peers.sh start 2>&1 | tee "$peers_log"; then
		peers_started=1
		set -a
		# shellcheck disable=SC1091
		. ./.peers.env
		set +a
	elif [ "${CI:-}" = true ]; then
		echo "scripts/peers.sh start failed (CI=true: the real peers are required)" >&2
		exit 1
	else
		# A contributor without root or apt: say in one line what is missing
		# and run everything else (the peer tests skip).
		missing=""
		for cmd in nginx tinyproxy curl; do
			command -v "$cmd" >/dev/null 2>&1 || missing="$missing $cmd"
		done
		/usr/bin/python3 -c 'import httpbin, gunicorn' >/dev/null 2>&1 || missing="$missing httpbin"
		echo "real peers unavailable (${missing:+not installed:$missing; }log: $peers_log): their tests skip. As root, scripts/peers.sh start installs them (apt-get: nginx tinyproxy-bin python3-httpbin python3-gunicorn curl)." >&2
	fi
fi

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.cache/*'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:" >&2
	echo "$unformatted" >&2
	exit 1
fi

step "go vet"
go vet ./...
(cd benchmarks && go vet ./...)
# The library builds where Godot runs: the platforms without the unix
# fast paths (quick connect, non-blocking reads) compile their fallbacks.
for goos in windows darwin; do # freebsd, openbsd…: the same unix && !linux files as darwin
	GOOS=$goos go vet ./...
done
GOARCH=386 go vet ./... # 32 bits: int is 32 bits, and getsockopt goes through socketcall
GOOS=plan9 go build ./... # the tests there use unix errno values
go vet -tags gdhttp_portable ./... # those fallbacks on Linux (nbread_other.go)

step "staticcheck"
if ! command -v staticcheck >/dev/null 2>&1; then
	go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
	export PATH="$(go env GOPATH)/bin:$PATH"
fi
staticcheck ./...
(cd benchmarks && staticcheck ./...)

step "go test -race -shuffle=on ./..."
# httpclient's and httprequest's race runs take about 3 minutes each on an
# idle 2-core machine; the 30-minute bound (go test's default is 10) keeps
# a slow or loaded machine from failing them as hung.
go test -race -shuffle=on -count=1 -timeout 30m ./...

# Allocation counts mean nothing under -race, so those tests skip there;
# they run here, with the inflater's long single-goroutine tests.
step "go test (no -race) of the tests -race skips: allocation counts, the inflater's long tests"
go test -count=1 -run '^(TestEager|TestAllocs|TestChunkCollectedInDst|TestAuditH2BrotliBombDefaultChunk|TestPacedRequestDoesNotYield|TestReadBufPooled)' ./httpclient ./httprequest

# The fallbacks of the platforms without the unix fast paths (a background
# read instead of a peek, no quick connect, no splice) run on Linux with the
# tag gdhttp_portable: the hostile corpus in every driver, and the keep-alive
# and liveness tests that pin what those platforms must get right.
step "the portable paths (Windows, Plan 9, wasm) on Linux: -tags gdhttp_portable"
go test -tags gdhttp_portable -count=1 ./internal/hostile
go test -tags gdhttp_portable -race -count=1 -run '^(TestTransportPOSTAfterIdleClose|TestKeepAlivePOSTAfterIdleClose|TestPollFINFallbackNonBlocking|TestPollLivenessFallback|TestTransportIdleClosedByServer|TestConnectTimeoutPerAddress|TestConnectionAfterUpgrade|TestConnectionHandsOutHeldBytes|TestConnectionHeldBytesFallback|TestLivenessFailureClosesSocket|TestLivenessResetClosesSocket|TestKeepPartialDownload)$' ./httpclient ./httprequest

# fuzz_one runs one target. Go 1.26's coordinator can report a bare "context
# deadline exceeded" when -fuzztime expires while a worker is mid-call
# (golang/go#75804, fixed in Go 1.27): no input is written and nothing is
# reproducible. Such a run is retried once and then reported, not failed; any
# run that wrote a failing input, panicked or failed otherwise fails CI.
fuzz_one() {
	local dir=$1 target=$2 log try
	log=$(mktemp)
	for try in 1 2; do
		if (cd "$dir" && go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime=100x . >"$log" 2>&1); then
			tail -n 2 "$log"
			rm -f "$log"
			return 0
		fi
		if grep -q 'context deadline exceeded' "$log" && ! grep -qE 'Failing input written|panic:|_test\.go:[0-9]+:' "$log"; then
			echo "(fuzztime boundary race of Go 1.26, golang/go#75804: no failing input; try $try)"
			continue
		fi
		cat "$log"
		rm -f "$log"
		exit 1
	done
	echo "WARNING: $target hit only the fuzztime boundary race twice; no failing input was found"
	rm -f "$log"
}

step "fuzz targets, ${fuzztime} each"
for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	# The targets are read from the source: go test -list would build every
	# package's tests once more just to name them. No fuzz target sits in a
	# file with a build constraint; one that did not build would fail its run.
	targets=$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$dir"/*_test.go 2>/dev/null || true)
	for target in $targets; do
		echo "--- $pkg $target"
		fuzz_one "$dir" "$target"
	done
done

step "soak: 200,000 keep-alive and 20,000 new-connection requests (scripts/soak.sh runs 1M/100k)"
scripts/soak.sh 200000 20000 | tail -n 4

step "benchmarks module: every benchmark compiles and runs once"
(cd benchmarks && go test -count=1 -run '^$' -bench . -benchtime=1x ./... >/dev/null && echo "benchmarks ok")

step "examples/vegeta: a vegeta attack through httpclient.Transport"
(cd examples/vegeta && go vet ./... && go test -race -count=1 ./...)

step "done"
