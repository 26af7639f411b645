package httprequest

import (
	"testing"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// COMPAT H10 at the node: a host Godot's IPAddress cannot hold (undefined
// behaviour in Godot) is a connect that cannot start (§2.4.8), so the node
// gives what Godot gives for one: RESULT_CANT_CONNECT for a request, in
// every driver; a redirect to one is abandoned (§2.8.1.6): the 302 is
// delivered when it has no body to read (the CONNECTED path), and R2 comes
// when it has one (the BODY path, whose close leaves no response).
func TestIPLiteralUndefinedNode(t *testing.T) {
	for _, host := range []string{"[1::2::3]", "[::1.2.3.4]", "[::ffff:127.0.0.1]"} {
		t.Run("request/"+host, func(t *testing.T) {
			eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
				o := d.run(t, n, "http://"+host+":80/", nil, httpclient.MethodGet, nil)
				assertCompletion(t, Completion{ResultCantConnect, 0, nil, nil}, o)
			})
		})
		t.Run("redirect-no-body/"+host, func(t *testing.T) {
			eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
				srv := serve(t, testserver.Respond("HTTP/1.1 302 Found\r\nLocation: http://"+host+"/\r\n\r\n"))
				o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
				assertCompletion(t, Completion{ResultSuccess, 302, []string{"Location: http://" + host + "/"}, nil}, o)
			})
		})
		t.Run("redirect-with-body/"+host, func(t *testing.T) {
			eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
				srv := serve(t, testserver.Respond("HTTP/1.1 302 Found\r\nLocation: http://"+host+"/\r\nContent-Length: 2\r\n\r\nno"))
				o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
				assertCompletion(t, Completion{ResultCantConnect, 0, nil, nil}, o)
			})
		})
	}
}
