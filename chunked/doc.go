// Package chunked decodes and encodes HTTP/1.1 chunked transfer coding with
// the byte rules of Godot 4's HTTPClient (docs/behaviour.md §1.10.2), and
// with the port's deviations of §7.
//
// Decoder is the sans-I/O core: fed bytes by its caller, resumable at any
// byte boundary, allocation-free, reporting each chunk boundary and the end
// of the body. Reader is an io.Reader on top of it; Writer, AppendChunk and
// AppendLastChunk produce chunked bodies for test servers. The package
// imports the standard library only.
//
//	body, err := io.ReadAll(chunked.NewReader(conn)) // io.ErrUnexpectedEOF: cut short
//
//	var d chunked.Decoder // sans-I/O: feed it whatever arrived, split anywhere
//	nDst, nSrc, ev, err := d.Decode(dst, src)
//	// dst[:nDst] is chunk data; src[nSrc:] is left; ev says EventChunkEnd or EventEnd
//
// ExampleNewReader and ExampleDecoder_Decode run both.
//
// # Decoder states
//
//	          hex digits, CR LF            n data bytes            CR LF
//	┌──► size line ─────────────► data (n > 0) ───────────► terminator ──┐
//	│        │  size 0                                                    │
//	│        ▼                                       EventChunkEnd        │
//	│     trailer ── empty CR LF line ──► done (EventEnd)                 │
//	└──────────────────────────────────────────────────────────────────────┘
//	any state ── malformed byte ──► failed (sticky *Error)
//
// # Godot → Go
//
//	Godot (core/io/http_client_tcp.cpp)              Go
//	read_response_body_chunk(), chunked branch       Decoder.Decode, Reader.Read
//	chunk / chunk_left / chunk_trailer_part          Decoder's unexported state
//	(no equivalent: the buffer is never cleared)     Decoder.Reset (§1.10.5, §7 D3)
//	"HTTP Invalid chunk hex len"                     KindSizeLineTooLong, ErrSizeLineTooLong
//	"HTTP Chunk len not in hex!!"                    KindNotHex, ErrNotHex
//	"HTTP Chunk too big!! >16mb"                     KindTooBig, ErrTooBig
//	"HTTP Invalid chunk terminator (not \r\n)"       KindBadTerminator, ErrBadTerminator
//	EOF in a chunked body → STATUS_DISCONNECTED      KindTruncated (io.ErrUnexpectedEOF), Decoder.Finish
//
// # Deviations from Godot (§7)
//
//   - D1: a size above MaxChunkSize is refused as its line ends; Godot logs
//     the error and still allocates the chunk (up to 256 MiB).
//   - D1: the trailer section is bounded (Decoder.MaxTrailerBytes, default
//     64 KiB, KindTrailerTooLong); Godot reads it without bound.
//   - D3: a body cut short is an error (KindTruncated), not Godot's silent
//     DISCONNECTED; Reset leaves nothing of an abandoned body behind.
//   - Decode copies chunk data as it arrives and reports EventChunkEnd when
//     the terminator is verified; Godot returns a chunk only once it is
//     whole. A caller that needs Godot's whole-chunk delivery keeps the
//     data until EventChunkEnd and drops it on an error.
//
// # Limits
//
// A size line is at most MaxSizeLine (32) bytes, a chunk at most
// MaxChunkSize (16 MiB) bytes, the trailer section MaxTrailerBytes. Nothing
// is ever allocated in proportion to a declared size; a Reader holds one
// 16 KiB buffer.
//
// # Concurrency
//
// Decoder, Reader and Writer are not safe for concurrent use; distinct
// values are independent.
package chunked
