package wire

import "strconv"

// Method is Godot's HTTPClient.Method enum, with Godot's numbers.
//
// Godot: HTTPClient.Method
type Method int

// Godot's methods, in Godot's order.
const (
	MethodGet     Method = iota // Godot: HTTPClient.METHOD_GET
	MethodHead                  // Godot: HTTPClient.METHOD_HEAD
	MethodPost                  // Godot: HTTPClient.METHOD_POST
	MethodPut                   // Godot: HTTPClient.METHOD_PUT
	MethodDelete                // Godot: HTTPClient.METHOD_DELETE
	MethodOptions               // Godot: HTTPClient.METHOD_OPTIONS
	MethodTrace                 // Godot: HTTPClient.METHOD_TRACE
	MethodConnect               // Godot: HTTPClient.METHOD_CONNECT
	MethodPatch                 // Godot: HTTPClient.METHOD_PATCH
	MethodMax                   // Godot: HTTPClient.METHOD_MAX (not a method)
)

var methodTokens = [...]string{"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "CONNECT", "PATCH"}

// Valid reports whether m is one of Godot's nine methods (§1.7.1).
func (m Method) Valid() bool { return m >= 0 && m < MethodMax }

// String returns the token written on the wire ("GET"), as STYLE.md asks for
// methods; an invalid method prints as "Method(n)".
func (m Method) String() string {
	if m.Valid() {
		return methodTokens[m]
	}
	return "Method(" + strconv.Itoa(int(m)) + ")"
}
