package httprequest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// TestAudit6TLSEndings is the node's view of the TLS endings of audit 6
// (httpclient: TestAudit6TLSBodyArrived), in every driver: a server that
// writes the whole response in one record and closes. A complete
// fixed-length or chunked body is delivered (R0) whether or not a
// close_notify came before the FIN — where Godot, when its BODY step's
// poll() sees a bare FIN while mbedTLS still holds the body, drops it and
// reports R4 (COMPAT.md H15). A read-until-close body that ends with a bare
// FIN is R4 (§1.15.4), with a close_notify R0.
func TestAudit6TLSEndings(t *testing.T) {
	ca := testserver.NewCA(t)
	cert := ca.Issue(t, "127.0.0.1")
	const cl = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	const uc = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\ndata"
	const ch = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
	tests := []struct {
		name string
		resp string
		end  testserver.Step
		want Completion
	}{
		{"length-FIN", cl, testserver.CloseTCP(), Completion{ResultSuccess, 200, hdrs("Content-Length: 2"), []byte("ok")}},
		{"length-close_notify-FIN", cl, testserver.Close(), Completion{ResultSuccess, 200, hdrs("Content-Length: 2"), []byte("ok")}},
		{"chunked-FIN", ch, testserver.CloseTCP(), Completion{ResultSuccess, 200, hdrs("Transfer-Encoding: chunked"), []byte("ok")}},
		{"until-close-FIN", uc, testserver.CloseTCP(), Completion{Result: ResultConnectionError}},
		{"until-close-close_notify-FIN", uc, testserver.Close(), Completion{ResultSuccess, 200, hdrs("Connection: close"), []byte("data")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
				srv := testserver.NewTLS(t, cert, testserver.Script(testserver.Read(), testserver.WriteString(tt.resp), tt.end))
				n.SetAcceptGzip(false)
				require.NoError(t, n.SetTLSOptions(httpclient.TLSClient(ca.Pool(), "")))
				o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
				assertCompletion(t, tt.want, o)
			})
		})
	}
}
