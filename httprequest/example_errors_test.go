package httprequest_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
	"github.com/gdhttp/gdhttp/wire"
)

// Telling failures apart the Go way: Do's error is a *ResultError that
// errors.Is matches against Godot's Result and against context.DeadlineExceeded
// for a timeout, and that errors.As opens to the real cause — the dial's
// *net.OpError for a refused connection, crypto/tls's error for a certificate
// no root vouches for, a *wire.LimitError for a body over body_size_limit.
func Example_errors() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	refused := "http://" + ln.Addr().String() + "/" // nothing listens there any more
	ln.Close()

	hold := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // answers only when the client has gone
		case <-r.Context().Done():
		case <-hold:
		}
	}))
	defer slow.Close()
	defer close(hold)

	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, strings.Repeat("x", 1000))
	}))
	defer big.Close()

	selfSigned := httptest.NewUnstartedServer(big.Config.Handler)
	selfSigned.Config.ErrorLog = log.New(io.Discard, "", 0) // quiet the server's handshake error
	selfSigned.StartTLS()
	defer selfSigned.Close()

	n := httprequest.New()
	defer n.Close()
	_ = n.SetBodySizeLimit(100)
	// Roots that do not hold the server's CA (an empty pool here: the system
	// roots refuse it the same way, but loading them takes longer).
	_ = n.SetTLSOptions(httpclient.TLSClient(x509.NewCertPool(), ""))
	for _, url := range []string{refused, slow.URL, selfSigned.URL, big.URL} {
		timeout := time.Duration(0) // none: the others end as they end however loaded the machine
		if url == slow.URL {
			timeout = 100 * time.Millisecond
		}
		_ = n.SetTimeout(timeout)
		c, err := n.Do(context.Background(), url, nil, httpclient.MethodGet, nil)
		var dial *net.OpError
		var cert *tls.CertificateVerificationError
		var limit *wire.LimitError
		switch {
		case err == nil:
			fmt.Println("ok", c.ResponseCode)
		case errors.Is(err, context.DeadlineExceeded):
			fmt.Println("timed out:", c.Result)
		case errors.As(err, &dial) && dial.Op == "dial":
			fmt.Println("refused:", c.Result)
		case errors.As(err, &cert):
			fmt.Println("bad certificate:", c.Result)
		case errors.As(err, &limit):
			fmt.Println("too big:", c.Result, c.ResponseCode, "limit", limit.Limit)
		default:
			fmt.Println("other:", err)
		}
	}
	// Output:
	// refused: RESULT_CANT_CONNECT
	// timed out: RESULT_TIMEOUT
	// bad certificate: RESULT_TLS_HANDSHAKE_ERROR
	// too big: RESULT_BODY_SIZE_LIMIT_EXCEEDED 200 limit 100
}
