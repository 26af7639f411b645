// Package peers hands tests the real peers that scripts/peers.sh starts:
// nginx (plain, TLS, IPv6), httpbin, three tinyproxy instances (open,
// strict, with Basic auth) and curl.
//
// Each accessor reads one environment variable. When the variable is unset
// or empty the test is skipped with a message that names the variable and
// the command that sets it, so `go test ./...` passes on a machine that has
// nothing but Go. When the variable is set, the accessor checks it (a
// loopback host:port that accepts connections, a readable CA, an executable
// curl) and fails the test otherwise: a configured peer that is gone is a
// broken environment, not a reason to skip.
//
//	func TestAgainstNginx(t *testing.T) {
//		addr := peers.Nginx(t) // "127.0.0.1:18080", or t.Skip
//		resp, err := http.Get("http://" + addr + "/static/1k.bin")
//		...
//	}
//
// The variables come from the process environment or, for those unset
// there, from the .peers.env file that `scripts/peers.sh start` writes at
// the repository root (see Load). scripts/peers/README.md lists what every
// peer serves.
package peers
