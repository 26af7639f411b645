package httpclient

import (
	"crypto/tls"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
	"github.com/gdhttp/gdhttp/internal/tlsforge"
)

// forgeStep is one thing a forged server does after the request head.
type forgeStep func(f *forger) error

// steps runs ss in order, 2 ms apart, so that each reaches the client in
// its own segment.
func steps(ss ...forgeStep) func(f *forger) error {
	return func(f *forger) error {
		for _, s := range ss {
			if err := s(f); err != nil {
				return err
			}
			time.Sleep(2 * time.Millisecond)
		}
		return nil
	}
}

// sendApp sends s in one application data record.
func sendApp(s string) forgeStep { return func(f *forger) error { return f.App(s) } }

// sendAlert sends one alert record.
func sendAlert(level, desc byte) forgeStep {
	return func(f *forger) error { return f.Alert(level, desc) }
}

// repeat sends s n times back to back.
func repeat(n int, s forgeStep) forgeStep {
	return func(f *forger) error {
		for range n {
			if err := s(f); err != nil {
				return err
			}
		}
		return nil
	}
}

// closeTCP ends the connection with a FIN alone, a little after the last
// record.
func closeTCP(f *forger) error {
	time.Sleep(20 * time.Millisecond)
	return f.Raw.Close()
}

// §1.15.4 and COMPAT.md H16: post-handshake records that crypto/tls
// servers never send, written by a forged server, against mbedTLS 3.6's
// handling in Godot (library/ssl_msg.c; Godot enables no renegotiation and
// no ticket signalling). Where crypto/tls, which reads the records inside
// the port's *tls.Conn, handles them otherwise, the test pins what the
// port does and names Godot's outcome (godotBody, godotFinal); the other
// rows are the same in both.
//   - TLS 1.2 HelloRequest: mbedTLS refuses the renegotiation with a
//     warning no_renegotiation alert and goes on reading
//     (ssl_tls12_handle_hs_message_post_handshake); crypto/tls fails the
//     connection ("tls: no renegotiation").
//   - TLS 1.3 warning alert (not close_notify): mbedTLS ignores every
//     warning alert, whatever the version (mbedtls_ssl_handle_message_type:
//     "Silently ignore"); crypto/tls fails on any TLS 1.3 alert but
//     close_notify and user_canceled.
//   - close_notify at level fatal: mbedTLS checks the level first
//     (MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE → CONNECTION_ERROR); crypto/tls
//     reads any close_notify as a clean io.EOF, so a read-until-close body
//     ends as after a warning one (DISCONNECTED).
//   - TLS 1.3 KeyUpdate: mbedTLS's client takes only NewSessionTicket after
//     the handshake (MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE); crypto/tls
//     updates its keys and reads on.
//   - records without data: crypto/tls drops at most 16 in a row (warning
//     alerts, empty application data, TLS 1.3 post-handshake messages) and
//     fails at the 17th ("too many ignored records"); mbedTLS ignores
//     warning alerts and tickets without limit but fails at the 4th empty
//     record in a row (ssl_prepare_record_content: nb_zero > 3).
func TestTLSForgedRecords(t *testing.T) {
	ca := ts.NewCA(t)
	cert := ca.Issue(t, "127.0.0.1")
	const cl10 = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
	const uc = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
	hello, world := sendApp("hello"), sendApp("world")
	helloRequest := func(f *forger) error { return f.HelloRequest() }
	ticket := func(f *forger) error { return f.Ticket() }
	keyUpdate := func(f *forger) error { return f.KeyUpdate(false) }
	empty := sendApp("")
	warning := sendAlert(tlsforge.AlertWarning, tlsforge.AlertUnrecognizedSNI)
	const (
		v12 = tls.VersionTLS12
		v13 = tls.VersionTLS13
	)
	tests := []struct {
		name       string
		version    uint16
		script     func(f *forger) error
		body       string
		final      Status
		godotBody  string // "" with godotFinal 0: as the port
		godotFinal Status
	}{
		// the forger itself, and endings crypto/tls and mbedTLS agree on
		{"tls12-plain", v12, steps(sendApp(cl10), hello, world), "helloworld", StatusConnected, "", 0},
		{"tls13-plain", v13, steps(sendApp(cl10), hello, world), "helloworld", StatusConnected, "", 0},
		{"tls12-warning-close_notify-until-close", v12, steps(sendApp(uc+"data"), sendAlert(tlsforge.AlertWarning, tlsforge.AlertCloseNotify)), "data", StatusDisconnected, "", 0},
		{"tls12-warning-alert-mid-body", v12, steps(sendApp(cl10), hello, warning, world), "helloworld", StatusConnected, "", 0},
		{"tls12-16-warning-alerts-mid-body", v12, steps(sendApp(cl10), hello, repeat(16, warning), world), "helloworld", StatusConnected, "", 0},
		{"tls13-16-tickets-mid-body", v13, steps(sendApp(cl10), hello, repeat(16, ticket), world), "helloworld", StatusConnected, "", 0},
		{"tls12-3-empty-records-mid-body", v12, steps(sendApp(cl10), hello, repeat(3, empty), world), "helloworld", StatusConnected, "", 0},
		// COMPAT.md H16
		{"tls12-hello-request-mid-body", v12, steps(sendApp(cl10), hello, helloRequest, world),
			"hello", StatusConnectionError, "helloworld", StatusConnected},
		{"tls13-warning-alert-mid-body", v13, steps(sendApp(cl10), hello, warning, world),
			"hello", StatusConnectionError, "helloworld", StatusConnected},
		{"tls12-fatal-close_notify-until-close", v12, steps(sendApp(uc+"data"), sendAlert(tlsforge.AlertFatal, tlsforge.AlertCloseNotify), closeTCP),
			"data", StatusDisconnected, "data", StatusConnectionError},
		{"tls13-fatal-close_notify-until-close", v13, steps(sendApp(uc+"data"), sendAlert(tlsforge.AlertFatal, tlsforge.AlertCloseNotify), closeTCP),
			"data", StatusDisconnected, "data", StatusConnectionError},
		{"tls13-keyupdate-mid-body", v13, steps(sendApp(cl10), hello, keyUpdate, world),
			"helloworld", StatusConnected, "hello", StatusConnectionError},
		{"tls12-17-warning-alerts-mid-body", v12, steps(sendApp(cl10), hello, repeat(17, warning), world),
			"hello", StatusConnectionError, "helloworld", StatusConnected},
		{"tls13-17-tickets-mid-body", v13, steps(sendApp(cl10), hello, repeat(17, ticket), world),
			"hello", StatusConnectionError, "helloworld", StatusConnected},
		{"tls12-4-empty-records-mid-body", v12, steps(sendApp(cl10), hello, repeat(4, empty), world),
			"helloworld", StatusConnected, "hello", StatusConnectionError},
	}
	for _, tt := range tests {
		for _, m := range modes {
			t.Run(tt.name+"/"+m.name, func(t *testing.T) {
				port := forgeServer(t, cert, tt.version, tt.script)
				c, tr := newClient(t, m.blocking)
				r := roundTrip(t, c, tr, "127.0.0.1", port, TLSClient(ca.Pool(), ""), getRoot, pathChunks, false)
				assert.Equal(t, tt.body, r.Body, "trace %v err %v", r.Trace, r.LastErr)
				assert.Equal(t, tt.final, r.Final, "trace %v err %v", r.Trace, r.LastErr)
				if tt.godotFinal != 0 {
					assert.NotEqual(t, tt.godotFinal, r.Final, "the port now does what Godot does: update COMPAT.md H16")
				}
			})
		}
	}
}
