package wire

import (
	"runtime"

	"github.com/gdhttp/gdhttp/godot"
)

// defaultUserAgent is computed once; DefaultUserAgent must not allocate
// because AppendRequest calls it on the hot path.
var defaultUserAgent = UserAgent(godot.Version, godot.OSName(runtime.GOOS))

// UserAgent returns the value of Godot's automatic User-Agent header,
// "GodotEngine/<version> (<osName>)", e.g.
// "GodotEngine/4.5.1.stable.official (Linux)". §1.7.10 Callers that claim
// another version set Request.UserAgent, e.g. to
// UserAgent("4.4.1.stable.official", "Windows").
//
// Godot: HTTPClient.request() (the automatic "User-Agent:" header)
func UserAgent(version, osName string) string {
	return "GodotEngine/" + version + " (" + osName + ")"
}

// DefaultUserAgent returns UserAgent(godot.Version, godot.OSName(runtime.GOOS)),
// the value AppendRequest uses when Request.UserAgent is empty. §1.7.10
//
// Godot: HTTPClient.request() (the automatic "User-Agent:" header)
func DefaultUserAgent() string { return defaultUserAgent }
