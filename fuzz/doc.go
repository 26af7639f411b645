// Package fuzz holds the fuzz targets that span more than one parser.
//
// Differential targets (FuzzDiffChunked, FuzzDiffReadResponse) run gdhttp's
// parsers and net/http's on the same bytes. Where Godot's rules and net/http
// disagree, each target names the documented difference as a predicate and
// still fails on any other disagreement.
//
// Whole-stack targets feed arbitrary server bytes, split at fuzzer-chosen
// points and ended by a close, a half-close or a reset, to the real client
// and node over loopback: FuzzClientStack (both client modes and both read
// paths agree, every status change is legal, strict success implies default
// success), FuzzNodeStack (the three node drivers give one completion each,
// the same one, never beyond body_size_limit) and FuzzDecompress (gzip,
// deflate and brotli bodies against zlib-rule references; a truncated stream
// is never a success). Each checks that goroutines and file descriptors come
// back and that the heap stays bounded.
//
// Per-parser targets live beside each parser. scripts/fuzz.sh DURATION runs
// every target of the module, one at a time.
package fuzz
