package godot

// Version is the engine version gdhttp claims to be by default, e.g. in the
// automatic User-Agent header: Godot's full build string
// (major.minor.patch.status.build, what Engine.get_version_info()["string"]
// plus the build name gives).
//
// Godot: Engine.get_version_info()
const Version = "4.5.1.stable.official"

// OSName returns what Godot's OS.get_name() reports on the platform Go
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
// returned unchanged, so a caller still learns what the machine is. The
// exact strings are not settled for every platform (§6.5); these are the
// names Godot 4.x's platform classes return.
//
// Godot: OS.get_name()
func OSName(goos string) string {
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
