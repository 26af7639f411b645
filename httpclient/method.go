package httpclient

import "github.com/gdhttp/gdhttp/wire"

// Method is Godot's HTTPClient.Method enum, re-exported from package wire.
// String returns the token written on the wire ("GET").
//
// Godot: HTTPClient.Method
type Method = wire.Method

// Godot's methods with Godot's numbers.
const (
	MethodGet     = wire.MethodGet     // Godot: HTTPClient.METHOD_GET (0)
	MethodHead    = wire.MethodHead    // Godot: HTTPClient.METHOD_HEAD (1)
	MethodPost    = wire.MethodPost    // Godot: HTTPClient.METHOD_POST (2)
	MethodPut     = wire.MethodPut     // Godot: HTTPClient.METHOD_PUT (3)
	MethodDelete  = wire.MethodDelete  // Godot: HTTPClient.METHOD_DELETE (4)
	MethodOptions = wire.MethodOptions // Godot: HTTPClient.METHOD_OPTIONS (5)
	MethodTrace   = wire.MethodTrace   // Godot: HTTPClient.METHOD_TRACE (6)
	MethodConnect = wire.MethodConnect // Godot: HTTPClient.METHOD_CONNECT (7)
	MethodPatch   = wire.MethodPatch   // Godot: HTTPClient.METHOD_PATCH (8)
	MethodMax     = wire.MethodMax     // Godot: HTTPClient.METHOD_MAX (9, not a method)
)
