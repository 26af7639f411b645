// Package drive holds the test drivers every test, benchmark and example of
// the module shares, so that each way of driving the client is written once:
//
//   - the node's three drivers of §7.3 — Process (one step per frame),
//     use_threads (a worker, completions delivered by Process) and Do — with
//     [Nodes], [Driver], [Drivers] and [Each];
//   - the frame loop underneath them ([Await]);
//   - the client's poll loops (see client.go) and the loopback helpers for
//     listeners and ports (see listen.go).
//
// The package imports neither httpclient nor httprequest: their in-package
// tests use it, and an import back would be a cycle. The node and the client
// are seen through small interfaces ([Node]) and type parameters (the node's
// Result and Completion types), so that httprequest.HTTPRequest satisfies
// [Node] as it is. It is not a library package: nothing outside tests,
// benchmarks and examples may import it (internal/archtest).
package drive
