// Package zlibref is the reference decoder the tests hold the node's gzip
// decoding against: zlib's rules (Godot's StreamPeerGZIP) written over
// compress/flate, not compress/gzip's, which differ in the member header
// (reserved flag bits, long file names). Tests only.
package zlibref
