package godot_test

import (
	"errors"
	"fmt"
	"net"
	"runtime"

	"github.com/gdhttp/gdhttp/godot"
)

// A Godot code travels with the real cause: errors.Is matches the code,
// errors.As reaches the cause, CodeOf gives the code of any error (FAILED
// when it carries none, OK for nil).
func ExampleCodeOf() {
	cause := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	err := fmt.Errorf("loading level 3: %w", godot.Wrap(godot.ErrCantConnect, "connect_to_host", cause))
	fmt.Println(err)
	fmt.Println(errors.Is(err, godot.ErrCantConnect), godot.CodeOf(err), godot.CodeOf(err).Code())
	var op *net.OpError
	fmt.Println(errors.As(err, &op), op.Op)
	fmt.Println(godot.CodeOf(nil), godot.CodeOf(errors.New("other")))
	// Output:
	// loading level 3: connect_to_host: ERR_CANT_CONNECT: dial tcp: connection refused
	// true ERR_CANT_CONNECT 25
	// true dial
	// OK FAILED
}

// The OS name and the engine version the automatic User-Agent carries.
func ExampleOSName() {
	fmt.Println(godot.OSName("windows"), godot.OSName("darwin"), godot.OSName("linux"))
	fmt.Println(godot.Version, godot.OSName(runtime.GOOS) != "")
	// Output:
	// Windows macOS Linux
	// 4.5.1.stable.official true
}
