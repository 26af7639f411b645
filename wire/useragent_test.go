package wire

import (
	"runtime"
	"testing"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/stretchr/testify/assert"
)

// §1.7.10: the User-Agent format, VERIFIED-3.2.3 as
// "GodotEngine/3.2.3.stable.custom_build (Server)".
func TestUserAgent(t *testing.T) {
	assert.Equal(t, "GodotEngine/3.2.3.stable.custom_build (Server)", UserAgent("3.2.3.stable.custom_build", "Server"))
	assert.Equal(t, "GodotEngine/4.4.1.stable.official (Linux)", UserAgent("4.4.1.stable.official", "Linux"))
	assert.Equal(t, "GodotEngine/4.5.1.stable.mono.official (Windows)", UserAgent("4.5.1.stable.mono.official", "Windows"))
}

func TestDefaultUserAgent(t *testing.T) {
	assert.Equal(t, UserAgent(godot.Version, godot.OSName(runtime.GOOS)), DefaultUserAgent())
	if runtime.GOOS == "linux" {
		assert.Equal(t, "GodotEngine/4.5.1.stable.official (Linux)", DefaultUserAgent())
	}
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = DefaultUserAgent() }))
}
