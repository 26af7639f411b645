// Package soak runs gdhttp for a long time against a loopback server that
// misbehaves now and then, and checks that nothing accumulates: goroutines,
// file descriptors and heap are back where they started when it ends.
//
// Size: GDHTTP_SOAK_KEEPALIVE keep-alive requests and GDHTTP_SOAK_NEWCONN
// new-connection requests, split between the raw client and the node
// (defaults 20000 and 2000; scripts/soak.sh runs the full 1,000,000 and
// 100,000). Skipped with -short.
package soak
