package wire

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
)

// §1.7.10: the User-Agent format, VERIFIED-3.2.3 as
// "GodotEngine/3.2.3.stable.custom_build (Server)".
func TestUserAgent(t *testing.T) {
	assert.Equal(t, "GodotEngine/3.2.3.stable.custom_build (Server)", UserAgent("3.2.3.stable.custom_build", "Server"))
	assert.Equal(t, "GodotEngine/4.4.1.stable.official (Linux)", UserAgent("4.4.1.stable.official", "Linux"))
	assert.Equal(t, "GodotEngine/4.5.1.stable.mono.official (Windows)", UserAgent("4.5.1.stable.mono.official", "Windows"))
}

// §1.7.10: OS.get_name() for each Go target.
func TestGodotOSName(t *testing.T) {
	tests := map[string]string{
		"linux": "Linux", "windows": "Windows", "darwin": "macOS",
		"freebsd": "FreeBSD", "netbsd": "NetBSD", "openbsd": "OpenBSD", "dragonfly": "BSD",
		"android": "Android", "ios": "iOS", "js": "Web", "wasip1": "Web",
		// No Godot port: GOOS passes through.
		"solaris": "solaris", "plan9": "plan9", "aix": "aix", "illumos": "illumos", "": "",
	}
	for goos, want := range tests {
		assert.Equal(t, want, GodotOSName(goos), goos)
	}
}

func TestDefaultUserAgent(t *testing.T) {
	assert.Equal(t, "4.5.1.stable.official", DefaultGodotVersion)
	assert.Equal(t, UserAgent(DefaultGodotVersion, GodotOSName(runtime.GOOS)), DefaultUserAgent())
	if runtime.GOOS == "linux" {
		assert.Equal(t, "GodotEngine/4.5.1.stable.official (Linux)", DefaultUserAgent())
	}
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = DefaultUserAgent() }))
}
