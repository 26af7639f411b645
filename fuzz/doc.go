// Package fuzz holds differential fuzz targets that run gdhttp's parsers and
// net/http's on the same bytes. Where Godot's rules and net/http disagree,
// each target names the documented difference as a predicate and still fails
// on any other disagreement. Per-parser targets live beside each parser.
package fuzz
