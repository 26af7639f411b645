// Package testserver plays exact server behaviour on loopback for the client
// tests: scripted raw TCP and TLS peers, a certificate authority generated in
// the test, and scripted CONNECT and forward proxies.
//
// Everything listens on 127.0.0.1:0 (or [::1]:0 with WithIPv6), never on a
// fixed port. Every goroutine the package starts is stopped and joined in
// t.Cleanup, so packages that use it can run goleak.VerifyTestMain.
//
// # Servers, handlers, scripts
//
// New(t, handler) runs handler in its own goroutine for each accepted
// connection; when it returns the connection is closed gracefully. A handler
// is usually a Script: steps run in order, the first failing step is recorded
// in Server.Errors, and ErrServerClosed from any blocking step ends the
// handler when the test is over. Sockets have TCP_NODELAY, so every write
// leaves at once and a gap between writes is a real gap on the wire.
//
//	srv := testserver.New(t, testserver.Respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
//	// client connects to srv.Host(), srv.Port() ...
//	srv.Close()                        // joins the handlers; also done by t.Cleanup
//	got := srv.Requests()[0]           // the exact request bytes
//	assert.Empty(t, srv.Errors())      // the script ran to the end
//
// # The §5 scenarios as scripts
//
//	const head = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
//
//	// Read-until-close body, FIN together with the data (§1.10.4: DISCONNECTED in Godot).
//	testserver.RespondAndClose(head + "data")
//
//	// Same, FIN 50 ms later (§1.10.4: CONNECTION_ERROR in Godot).
//	testserver.Script(testserver.Read(), testserver.WriteString(head+"data"),
//		testserver.Sleep(50*time.Millisecond), testserver.Close())
//
//	// The response split at byte 17, 20 ms apart: the client sees two reads.
//	testserver.Script(testserver.Read(),
//		testserver.WriteSplit([]byte(resp), []int{17}, 20*time.Millisecond), testserver.Hold())
//
//	// One byte per 100 ms (timeout tests).
//	testserver.Script(testserver.Read(), testserver.Trickle([]byte(resp), 100*time.Millisecond))
//
//	// A server that never answers (reads the request, then keeps the connection open).
//	testserver.Script(testserver.Read(), testserver.Hold())
//
//	// Chunked body cut after the first chunk (§1.10.2.7).
//	testserver.Script(testserver.Read(), testserver.WriteAndClose([]byte(
//		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")))
//
//	// Half-close: the client sees EOF but can still send (CloseWrite), then a RST.
//	testserver.Script(testserver.Read(), testserver.WriteString(resp), testserver.CloseWrite(),
//		testserver.ReadN(4), testserver.Reset())
//
//	// Keep-alive: the same response to every request on the connection.
//	testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
//
//	// A plain server that receives a TLS ClientHello.
//	testserver.Script(testserver.ReadSome(),
//		testserver.WriteAndClose([]byte("HTTP/1.1 400 Bad Request\r\n\r\n")))
//
// For the "split at every byte boundary" rule, loop over i in 1..len(resp)-1
// and run the scenario with WriteSplit(resp, []int{i}, gap). Custom steps are
// Do(name, func(c *Conn) error); a handler can also be any func(*Conn) that
// uses the Conn methods directly and returns on their errors.
//
// # TLS
//
//	ca := testserver.NewCA(t)
//	srv := testserver.NewTLS(t, ca.Issue(t, "localhost", "127.0.0.1", "::1"), handler)
//	// client trusts ca.Pool(); a wrong host is ca.Issue(t, "other.example");
//	// an unknown authority is testserver.NewCA(t).Issue(t, "localhost").
//	srv.ServerNames() // the SNI each connection sent
//
// The handshake runs before the handler; a failed one is recorded in Errors
// with Op "handshake" and the handler is not run. Close sends close_notify
// then FIN; CloseTCP sends the FIN alone (§1.15.4).
//
// # Proxies
//
//	p := testserver.NewConnectProxy(t)                                  // 200, tunnels
//	p := testserver.NewConnectProxy(t, testserver.ProxyReply("HTTP/1.1 403 Forbidden\r\n\r\n"))
//	p := testserver.NewConnectProxy(t, testserver.ProxyReply(""), testserver.ProxyCloseAfterReply())
//	f := testserver.NewForwardProxy(t)                                  // absolute-form → origin
//	p.Requests()                                                         // the CONNECT requests
//
// Proxies add a hop, so exact timing (FIN with the data, split gaps) is only
// guaranteed between a Server and its client, not through a proxy.
//
// # Rules for handlers
//
//   - Return when a Conn method returns an error (ErrServerClosed at the end of
//     the test); never call Server.Close or t.FailNow from a handler.
//   - Reads (ReadRequest, ReadN, ReadSome) are bounded by the I/O timeout
//     (DefaultIOTimeout, WithIOTimeout); Hold and the sleeps are ended by Close.
//   - Read from one goroutine at a time; writing and closing may happen from
//     another.
//   - Received and Requests are final once Close returned.
//
// Timing: these are real sockets, so tests that use them cannot run inside a
// testing/synctest bubble.
package testserver
