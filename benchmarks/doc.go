// Package benchmarks measures gdhttp against net/http (and other clients)
// side by side in one run, over loopback servers started by the benchmarks
// themselves. It is a module of its own so that comparison clients stay out
// of the main module's dependencies.
//
// Run: cd benchmarks && go test -run '^$' -bench . -count 6 | tee new.txt; benchstat new.txt
//
// The paired comparison of every gdhttp driver against net/http, fasthttp,
// curl and the raw-TCP limits, with the acceptance checks of issue 8, is the
// command cmd/compare; it writes RESULTS.md:
//
//	cd benchmarks && go run ./cmd/compare -quick   # about a minute or two
//	cd benchmarks && go run ./cmd/compare          # full: 256 MiB bodies, 1 GiB download_file
package benchmarks
