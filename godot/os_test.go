package godot

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// §1.7.10, §6.5: OS.get_name() for each Go target.
func TestOSName(t *testing.T) {
	tests := map[string]string{
		"linux": "Linux", "windows": "Windows", "darwin": "macOS",
		"freebsd": "FreeBSD", "netbsd": "NetBSD", "openbsd": "OpenBSD", "dragonfly": "BSD",
		"android": "Android", "ios": "iOS", "js": "Web", "wasip1": "Web",
		// No Godot port: GOOS passes through.
		"solaris": "solaris", "plan9": "plan9", "aix": "aix", "illumos": "illumos", "": "",
	}
	for goos, want := range tests {
		assert.Equal(t, want, OSName(goos), goos)
	}
	assert.Equal(t, "4.5.1.stable.official", Version)
}
