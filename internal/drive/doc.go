// Package drive holds the test drivers the tests and benchmarks of the
// module share, so that each way of driving the client is written once:
//
//   - the node's three drivers of §7.3 — Process (one step per frame),
//     use_threads (a worker, completions delivered by Process) and Do — with
//     [Nodes] (Run, Callback, ProcessUntil), [Driver], [Drivers] and [Each];
//   - the frame loop underneath them, [Await], and the bounded waits the
//     tests use instead of sleeps: [Until] (a condition, no frames), [Idle]
//     (frames where nothing may happen), [Parked] and [Waiting] (a
//     goroutine's call has reached the point where it waits: on its socket,
//     or on anything), and [AwaitTCP] over the test process's own TCP
//     sockets ([UnreadAtLeast], [AllRead]: bytes arrived or read;
//     [PeerEnded], [NoneEstablished]: a FIN or RST arrived) — what a socket
//     shows no sign of short of a read;
//   - the client's poll loops, [Poller] (While, Body): Godot's non-blocking
//     loop, a pause between polls, or blocking mode;
//   - one loopback accept loop, [Serve], with [EachHead] for servers that
//     answer request heads from prepared bytes (they allocate nothing per
//     request, so allocation tests count the client alone), and [Relay],
//     a TCP relay in front of a real peer that a test can watch or cut;
//   - what the generated harnesses check and log at their end: [FDs] and
//     [NoFDLeft] (no descriptor left), [Counts] (their tallies).
//
// The package imports neither httpclient nor httprequest: their in-package
// tests use it, and an import back would be a cycle. The node and the client
// are seen through small interfaces ([Node], [Client]) and type parameters
// (the node's Result and Completion types, the client's Status), so that
// httprequest.HTTPRequest and httpclient.Client satisfy them as they are. It
// is not a library package: nothing but tests and benchmarks may import it
// (internal/archtest). The Example functions keep their own loops: they show
// a user's code, which cannot import an internal package.
package drive
