// Package golden is the repository's one golden-file mechanism: a test
// compares the bytes it produced with testdata/<name>.golden in its package
// directory, and `go test -update` rewrites those files from what the tests
// produce (review the diff before committing it).
//
//	golden.Check(t, "request_head", got)   // compare with testdata/request_head.golden
//	go test ./wire ./httpclient -run Golden -update
//
// It is imported by tests only (internal/archtest pins that) and uses the
// standard library only, so any package's tests can use it without a cycle.
package golden
