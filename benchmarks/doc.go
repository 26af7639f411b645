// Package benchmarks measures gdhttp against net/http (and other clients)
// side by side in one run, over loopback servers started by the benchmarks
// themselves. It is a module of its own so that comparison clients stay out
// of the main module's dependencies.
//
// Run: cd benchmarks && go test -run '^$' -bench . -count 6 | tee new.txt; benchstat new.txt
package benchmarks
