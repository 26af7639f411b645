// Package archtest pins the architecture of STYLE.md: dependencies point one
// way — godot (Godot's engine runtime) and chunked on the standard library
// only; wire on godot; httpclient on wire, chunked and godot; httprequest on
// httpclient (and wire, godot); nothing imports httprequest but commands,
// fuzz targets, benchmarks and examples; godot does no I/O; the test helper
// internal/golden imports no package of the module, internal/drive (the
// shared test drivers) only godot, and only tests import them.
// Third-party modules are the agreed set everywhere; the commands alone may
// use the other modules go.mod requires (cmdModules). Every exported
// identifier of the library packages has a doc comment, and every Example
// their docs name exists (godoc_test.go). The tests scripts/test.sh names in
// its -run lists exist, and every test that skips under -race is one of the
// run without it (ci_test.go).
package archtest
