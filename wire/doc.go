// Package wire is the sans-I/O core of gdhttp: pure functions over byte
// slices that write requests and parse response heads exactly as Godot 4's
// HTTPClientTCP does, plus Godot's URL, query-string and string primitives.
// Godot's engine runtime (the Error enum, String(Variant), OS names) is
// package godot, which wire imports. No sockets, no goroutines: the client
// in package httpclient feeds it bytes. Rule numbers such as §1.8.4 are rows
// of docs/behaviour.md.
//
//	r := &wire.Request{Method: wire.MethodGet, URL: "/api", Host: "example.com", Port: 80}
//	if err := wire.ValidateRequest(r, false); err != nil { … }
//	buf = wire.AppendRequest(buf[:0], r) // Godot's exact bytes: write them to the connection
//
//	var p wire.HeadParser
//	var h wire.Head
//	n, err := p.Parse(received, &h) // ErrNeedMore: append what arrives next, call again
//	// h.Code, h.Headers, h.Framing; the body starts at received[n:]
//
// ExampleAppendRequest shows the bytes of a game claiming another Godot
// build (UserAgent, godot.OSName); ExampleHeadParser_Parse a head that
// arrives in two pieces.
//
// # What is here
//
//   - Request writing (§1.7): ValidateRequest, then AppendRequest into a
//     caller-owned buffer (zero allocations when it has room). AppendConnect
//     writes the HTTPS-proxy CONNECT request (§1.14.2, with the §7 D5 fixes).
//   - Response heads (§1.8, §1.9): HeadParser.Parse is incremental — given
//     every byte received so far it fills a Head and returns how many bytes
//     the head used, or ErrNeedMore. Godot's lenient rules by default; the strict RFC
//     9110/9112 checks of §7.4 are options of the same parser. The body framing
//     is decided once, as a Framing value.
//   - Stored header strings (header.go): HeadersAsDictionary (§1.11.4),
//     HTTPHeader, and the header lookups, one function per way Godot looks
//     a header up (HasLinePrefix, HasHeader, HeaderValue, RedirectLocation)
//     plus the RFC 9110 field lookup of the opt-ins (LookupField,
//     FieldValue, FieldName). Every package above uses these, and Godot's
//     case-insensitive string tests (HasPrefixFold, EqualFold, ContainsFold,
//     §0.4.3), instead of its own copy.
//   - URLs and queries: ParseURL (Godot's String.parse_url), ParseRequestURL
//     (HTTPRequest's rules, §2.5), QueryStringFromDict (§1.16), URIEncode.
//   - Errors: refused input is godot.ErrInvalidParameter wrapped around a
//     *RequestError or *URLError; *LimitError reports an exceeded Limits
//     bound; *HeadError a refused response head.
//
// # Limits
//
// Godot bounds nothing; a hostile server could make it hold an unbounded
// header block. Limits bounds the head (default 1 MiB) and, optionally, the
// number of header fields (always 100 in strict mode). The zero Limits means
// the defaults.
//
// # Godot → Go
//
//	HTTPClient.Method              Method (MethodGet …)
//	HTTPClient.verify_headers      VerifyHeaders
//	HTTPClient.query_string_from_dict  QueryStringFromDict
//	String.parse_url               ParseURL
//	String.uri_encode              URIEncode
//	HTTPRequest.has_header         HasHeader
//	HTTPRequest.get_header_value   HeaderValue
//	String.strip_edges             StripEdges
//	String.findn, containsn        HasPrefixFold, ContainsFold
//	String.to_lower() ==           EqualFold
//	String.to_int                  (unexported; §0.4.2)
//
// # Concurrency
//
// Functions are safe for concurrent use; a HeadParser and a Head belong to one
// goroutine at a time.
package wire
