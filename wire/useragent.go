package wire

import "runtime"

// DefaultGodotVersion is the engine version the automatic User-Agent claims
// by default: Godot's full build string (major.minor.patch.status.build, what
// Engine.get_version_info()["string"] plus the build name gives). Callers that
// want another version set Request.UserAgent, e.g. to UserAgent("4.4.1.stable.official", "Windows").
const DefaultGodotVersion = "4.5.1.stable.official"

// defaultUserAgent is computed once; DefaultUserAgent must not allocate
// because AppendRequest calls it on the hot path.
var defaultUserAgent = UserAgent(DefaultGodotVersion, GodotOSName(runtime.GOOS))

// UserAgent returns the value of Godot's automatic User-Agent header,
// "GodotEngine/<version> (<osName>)", e.g.
// "GodotEngine/4.5.1.stable.official (Linux)". §1.7.10
//
// Godot: HTTPClient.request() (the automatic "User-Agent:" header)
func UserAgent(version, osName string) string {
	return "GodotEngine/" + version + " (" + osName + ")"
}

// DefaultUserAgent returns UserAgent(DefaultGodotVersion, GodotOSName(runtime.GOOS)),
// the value AppendRequest uses when Request.UserAgent is empty. §1.7.10
//
// Godot: HTTPClient.request() (the automatic "User-Agent:" header)
func DefaultUserAgent() string { return defaultUserAgent }

// GodotOSName returns what Godot's OS.get_name() reports on the platform Go
// calls goos:
//
//	linux → "Linux"        windows → "Windows"    darwin → "macOS"
//	freebsd → "FreeBSD"    netbsd → "NetBSD"      openbsd → "OpenBSD"
//	dragonfly → "BSD"      android → "Android"    ios → "iOS"
//	js, wasip1 → "Web"
//
// dragonfly gets "BSD" because Godot's Linux/BSD platform reports "BSD" for
// every BSD it does not name. Godot has no port for the remaining Go targets
// (aix, illumos, solaris, plan9, hurd, …); for those the GOOS string itself is
// returned unchanged, so the header still says what the machine is. The
// exact strings are not settled for every platform (§6.5); these are the
// names Godot 4.x's platform classes return.
//
// Godot: OS.get_name()
func GodotOSName(goos string) string {
	switch goos {
	case "linux":
		return "Linux"
	case "windows":
		return "Windows"
	case "darwin":
		return "macOS"
	case "freebsd":
		return "FreeBSD"
	case "netbsd":
		return "NetBSD"
	case "openbsd":
		return "OpenBSD"
	case "dragonfly":
		return "BSD"
	case "android":
		return "Android"
	case "ios":
		return "iOS"
	case "js", "wasip1":
		return "Web"
	}
	return goos
}
