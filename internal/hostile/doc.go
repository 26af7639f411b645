// Package hostile plays the hostile-server corpus of testdata/hostile against
// the HTTPRequest node (Process, use_threads, Do) and the raw HTTPClient
// (blocking and non-blocking Poll), each with the server's bytes written in
// one piece, one byte per write, and split at random fixed-seed points, and
// checks after every scenario that no goroutine, file descriptor, heap or
// temporary file was left behind (issue 9, items 1–3). The raw client's
// scenarios that a blocking client plays and that send no custom header
// also go through httpclient.Transport, written in one piece and one byte
// per write: a success must come out as the same code and body, any other
// outcome as an error (transport_test.go says the two exceptions).
//
// The package holds only tests: go test ./internal/hostile.
//
// # Corpus format
//
// One file per group, testdata/hostile/<group>.hostile. Lines starting with
// '#' are comments. A scenario starts with "=== name" and is a list of
// "key: value" lines. Byte values are expressions: quoted strings with Go
// escapes ("\r\n", "\x00") concatenated with generators:
//
//	rep N EXPR        EXPR repeated N times
//	gzip EXPR         gzip member of EXPR (also zlib, flate = raw deflate, br)
//	gzipname N EXPR   gzip member with an N-byte FNAME (gzipcomment, gzipextra)
//	zlibflush EXPR    zlib stream with a sync flush after every byte
//	zlibstored N EXPR zlib stream, each byte a stored block after N empty ones
//	brempty N EXPR    brotli stream, each byte an uncompressed meta-block after
//	                  N empty metadata meta-blocks
//	cut N EXPR        EXPR without its last N bytes
//	flip I EXPR       EXPR with byte I (negative: from the end) inverted
//	chunk EXPR        "<hex len>\r\n" EXPR "\r\n"
//	( EXPR EXPR… )    one argument made of several
//	len EXPR          the decimal length of EXPR
//	{name}            host:port of server name (also {name.port}, {name.host})
//
// Keys (repeatable ones marked *):
//
//	rule: §…                      the rules the scenario pins
//	srv NAME: plain|tls=KIND      an extra server (main always exists, plain)
//	on NAME PATH: STEP; STEP…     * a server script for a request path (* = any)
//	send: EXPR                    * sugar: main answers every path with these bytes
//	end: close|hang|…             sugar: how main ends after send (default hang)
//	url:, method:, reqhdr: *, reqbody:, opt: k=v…, proxy: http|https NAME
//	want: RESULT CODE, hdr: * , body: EXPR, file: EXPR
//	counters: BODY_SIZE DOWNLOADED  the node's get_body_size(), get_downloaded_bytes()
//	strict: RESULT CODE (+ strict-hdr: *, strict-body:)
//	client: skip                  the raw client (blocking, poll) does not play it
//	alt: RESULT CODE              an accepted alternative (a named Godot race); with no
//	                              alt-hdr: *, the main outcome's headers and body
//	race: reason, pending: reason, strict-pending: reason, heap: 64MiB
//	splits: one,byte,random       drivers: process,threads,do,blocking,poll
//
// Steps: recv, send EXPR, sleep D, trickle D EXPR, close, closetcp,
// halfclose, reset, hang, endless EXPR, drip D EXPR, bomb gzip|deflate, closeafter D,
// records N EXPR (EXPR in writes of N bytes, under TLS a record each, the
// socket corked so that they leave in full segments; every split the same).
package hostile
