// Command compare is gdhttp's paired comparison: every gdhttp driver (the
// blocking client, the non-blocking Poll loop, the node's Process loop with
// and without use_threads, Do into memory, Do streaming, keep-alive, the
// http.RoundTripper under an http.Client) against net/http, fasthttp, curl (an
// external process, skipped when not installed) and the raw-TCP limits (a
// bare net.Conn reading into 64 KiB and 1 MiB buffers, and into one buffer
// in memory made at the body's size), over a raw loopback
// server in a child process. The clients are interleaved download by
// download, round after round, so that the noise of a shared machine falls on
// all of them alike; every figure is a median over the rounds, and every
// ratio the median of the per-round ratios. It writes a markdown report
// (RESULTS.md) with a table per workload and the acceptance checks of issue
// 8, and prints as its last line
//
//	gdhttp/nethttp cl=X chunk16k=X gzip=X newconn=X keepalive=X poll/blocking=X
//
// Run it from the benchmarks module:
//
//	go run ./cmd/compare -quick          # a few minutes: 64 MiB bodies, 5 rounds
//	go run ./cmd/compare                 # full: 256 MiB bodies, download_file of 1 GiB
//	go run ./cmd/compare -only 'cl|gzip' # workload/client names matching a regexp
package main
