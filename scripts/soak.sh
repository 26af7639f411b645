#!/usr/bin/env bash
# The full soak: 1,000,000 keep-alive and 100,000 new-connection requests
# through the client and the node, with resets, early closes, timeouts and
# cancels interleaved; goroutines, file descriptors and heap must end flat.
#   scripts/soak.sh [KEEPALIVE [NEWCONN]]
set -euo pipefail
cd "$(dirname "$0")/.."
GDHTTP_SOAK_KEEPALIVE=${1:-1000000} GDHTTP_SOAK_NEWCONN=${2:-100000} \
	exec go test -count=1 -timeout 60m -run '^TestSoak$' -v ./internal/soak
