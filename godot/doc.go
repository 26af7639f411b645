// Package godot holds the rules of Godot's engine runtime that the HTTP code
// needs, outside HTTP itself: the global Error enum with Godot's numbers
// (§0.3), Godot's String(Variant) printing (used by
// HTTPClient.query_string_from_dict, §1.16) and OS.get_name() (used by the
// automatic User-Agent, §1.7.10). It depends on the standard library only
// and knows nothing of HTTP; package wire (the HTTP/1 codec) and the packages
// above it import it. Rule numbers such as §0.3 are rows of docs/behaviour.md.
//
//	if errors.Is(err, godot.ErrBusy) { … } // Godot's code, however it is wrapped
//	code := godot.CodeOf(err)              // ERR_BUSY; code.Code() is 44
//	godot.OSName(runtime.GOOS)             // "Linux", "Windows", "macOS" …
//
// ExampleCodeOf and ExampleOSName run them.
//
// # Errors
//
// Error is a constant error type: ErrBusy is 44, as in Godot, and OK is a nil
// error. A *CodeError (made by Wrap) carries a code together with the
// operation and the real cause, and unwraps to both, so
// errors.Is(err, godot.ErrCantConnect) and errors.As(err, &dnsErr) work on
// the same value. CodeOf recovers the code of any error. Package httpclient
// re-exports the codes the client returns (httpclient.ErrCantConnect is
// godot.ErrCantConnect), so users of the client need not import this
// package.
//
// # Godot → Go
//
//	@GlobalScope.Error             Error (Failed, ErrBusy …; OK is nil)
//	error_names[] (Error's name)   Error.String
//	String(Variant), str()         VariantString, AppendVariant
//	Variant::ARRAY                 IsArray (a []any, or a slice of a kind Godot does not pack)
//	String::num_real               (unexported; the float rule of AppendVariant)
//	OS.get_name()                  OSName(runtime.GOOS)
//	Engine.get_version_info()      Version (the version gdhttp claims)
package godot
