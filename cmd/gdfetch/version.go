package main

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/gdhttp/gdhttp/wire"
)

// errVersion is parseFetch's answer to -V / --version, as pflag.ErrHelp is
// to -h: print versionText and exit 0, whatever else the line holds.
var errVersion = errors.New("gdfetch: --version")

// versionText is what -V prints, as curl -V does its own: the build, then
// the User-Agent every request sends unless -A or -H says otherwise, the
// line a server sees from a Godot game (godot.Version, OS.get_name()).
func versionText() string {
	v := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		v = bi.Main.Version
	}
	return fmt.Sprintf("gdfetch %s (github.com/gdhttp/gdhttp) %s %s/%s\nUser-Agent: %s\n",
		v, runtime.Version(), runtime.GOOS, runtime.GOARCH, wire.DefaultUserAgent())
}
