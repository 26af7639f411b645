package httpclient

import "strconv"

// Status is Godot's HTTPClient.Status enum, with Godot's numbers (§1.2).
// String returns Godot's token ("STATUS_BODY").
//
// Godot: HTTPClient.Status
type Status int

// Godot's statuses, in Godot's order.
const (
	StatusDisconnected      Status = iota // Godot: HTTPClient.STATUS_DISCONNECTED (0): idle or closed
	StatusResolving                       // Godot: HTTPClient.STATUS_RESOLVING (1): DNS lookup in progress
	StatusCantResolve                     // Godot: HTTPClient.STATUS_CANT_RESOLVE (2): DNS failed (terminal)
	StatusConnecting                      // Godot: HTTPClient.STATUS_CONNECTING (3): TCP connect, proxy CONNECT or TLS handshake in progress
	StatusCantConnect                     // Godot: HTTPClient.STATUS_CANT_CONNECT (4): connect failed (terminal)
	StatusConnected                       // Godot: HTTPClient.STATUS_CONNECTED (5): ready for Request
	StatusRequesting                      // Godot: HTTPClient.STATUS_REQUESTING (6): sending the request / waiting for the response head
	StatusBody                            // Godot: HTTPClient.STATUS_BODY (7): head parsed, the body must be read
	StatusConnectionError                 // Godot: HTTPClient.STATUS_CONNECTION_ERROR (8): I/O or protocol error (terminal)
	StatusTLSHandshakeError               // Godot: HTTPClient.STATUS_TLS_HANDSHAKE_ERROR (9): TLS setup or handshake failed (terminal)
)

var statusNames = [...]string{
	"STATUS_DISCONNECTED", "STATUS_RESOLVING", "STATUS_CANT_RESOLVE",
	"STATUS_CONNECTING", "STATUS_CANT_CONNECT", "STATUS_CONNECTED",
	"STATUS_REQUESTING", "STATUS_BODY", "STATUS_CONNECTION_ERROR",
	"STATUS_TLS_HANDSHAKE_ERROR",
}

// String returns Godot's constant name, e.g. "STATUS_BODY".
func (s Status) String() string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "Status(" + strconv.Itoa(int(s)) + ")"
}

// Terminal reports whether s is one of the failure statuses that stay until
// Close or ConnectToHost (§1.19).
func (s Status) Terminal() bool {
	switch s {
	case StatusCantResolve, StatusCantConnect, StatusConnectionError, StatusTLSHandshakeError:
		return true
	}
	return false
}

// transition is one edge of the status machine.
type transition struct{ from, to Status }

// legalTransitions is the status machine of §1.19, plus the transitions the
// port adds (§7), each with the rule that allows it. Every status change goes
// through Client.setStatus; the tests check every change they observe
// against this table. A change to StatusDisconnected is always legal (close()
// and connect_to_host() reset from any status) and is not listed.
var legalTransitions = map[transition]string{
	{StatusDisconnected, StatusConnecting}:  "§1.5.10 connect_to_host(IP literal)",
	{StatusDisconnected, StatusResolving}:   "§1.5.11 connect_to_host(name)",
	{StatusDisconnected, StatusCantConnect}: "§1.5.10 immediate connect failure for an IP literal (invalid port)",
	{StatusDisconnected, StatusConnected}:   "§1.13.2 set_connection(): close(), then CONNECTED",

	{StatusResolving, StatusConnecting}:  "§1.6.1.2 resolver done, a connect started",
	{StatusResolving, StatusCantResolve}: "§1.6.1.3 resolver failed",
	{StatusResolving, StatusCantConnect}: "§1.6.1.2 every connect start failed; Abort while resolving",

	{StatusConnecting, StatusConnected}:         "§1.6.2.3 / §1.6.2.5 TCP (and TLS) connected",
	{StatusConnecting, StatusCantConnect}:       "§1.6.2.2 no candidate left; §1.14.2.3 proxy refusal",
	{StatusConnecting, StatusTLSHandshakeError}: "§1.6.2.5 TLS handshake or verification failed",

	{StatusConnected, StatusRequesting}:      "§1.7.12 request()",
	{StatusConnected, StatusConnectionError}: "§1.6.3 peer FIN / TLS closed while idle",

	{StatusRequesting, StatusBody}:            "§1.9 head parsed, a body follows",
	{StatusRequesting, StatusConnected}:       "§1.9 head parsed, no body",
	{StatusRequesting, StatusConnectionError}: "§1.6.4 write/read error or EOF before the head",

	{StatusBody, StatusConnected}:       "§1.10.3 body complete",
	{StatusBody, StatusConnectionError}: "§1.10.1.4 read error, §1.10.2 chunk protocol error, §1.6.3 TLS/TCP error",
}

// legalTransition reports whether from → to is allowed by legalTransitions
// (a change to StatusDisconnected is always allowed, a non-change too).
func legalTransition(from, to Status) bool {
	if from == to || to == StatusDisconnected {
		return true
	}
	_, ok := legalTransitions[transition{from, to}]
	return ok
}
