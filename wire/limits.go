package wire

// Default limits. Godot itself has none (§1.8, §1.6.4.2: unbounded header
// buffer); these are the §7 D1 bounds. A zero field in Limits means the default.
const (
	DefaultMaxHeaderBytes  = 1 << 20 // the whole response head, status line and 1xx heads included
	DefaultMaxHeaderFields = 0       // lenient mode: no count limit beyond the byte budget
	StrictMaxHeaderFields  = 100     // §7.4: at most 100 header fields in strict mode
	StrictMaxInformational = 10      // §7.4: at most 10 1xx responses skipped in strict mode
)

// Limits bounds what a peer can make the parser hold. The zero value means the
// documented defaults.
type Limits struct {
	// MaxHeaderBytes bounds the response head in bytes (default 1 MiB).
	MaxHeaderBytes int
	// MaxHeaderFields bounds the number of header lines; 0 means no count limit
	// in lenient mode and StrictMaxHeaderFields in strict mode.
	MaxHeaderFields int
}

// HeaderBytes returns the effective header byte budget.
func (l Limits) HeaderBytes() int {
	if l.MaxHeaderBytes <= 0 {
		return DefaultMaxHeaderBytes
	}
	return l.MaxHeaderBytes
}

// HeaderFields returns the effective header field limit (0: none).
func (l Limits) HeaderFields(strict bool) int {
	if l.MaxHeaderFields > 0 {
		return l.MaxHeaderFields
	}
	if strict {
		return StrictMaxHeaderFields
	}
	return DefaultMaxHeaderFields
}
