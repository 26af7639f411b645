package httpclient

import (
	"bytes"
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/kagen"
)

// kagen2NotifySteps: a POST answered with a length, then a close_notify
// while idle (TCP left open), then a GET.
func kagen2NotifySteps(method string) []kagen.Step {
	body := strings.Repeat(kagen.Marker(0), 400)
	a0 := kagen.Answer{Kind: "cl", Head: "HTTP/1.1 200 OK\r\nContent-Length: 1600\r\n\r\n", Body: []byte(body),
		Payload: []byte(body), After: kagen.NotifyLater, Records: []int{828, 828}, Clean: true}
	a1 := kagen.Answer{Kind: "cl", Head: "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n", Body: []byte(kagen.Marker(1)),
		Payload: []byte(kagen.Marker(1)), Reuse: true, Clean: true}
	st0 := kagen.Step{Index: 0, Method: method, Limit: -1, Answer: a0}
	if method == "POST" {
		st0.Body = bytes.Repeat([]byte("p"), 100)
	}
	return []kagen.Step{st0, {Index: 1, Method: "GET", Limit: -1, Answer: a1}}
}

func TestProbeKagen2NotifyLaterExplore(t *testing.T) {
	tl := newKagen2TLS(t)
	for k := 0; k < 20; k++ {
		steps := kagen2NotifySteps("POST")
		srv, err := kagen.NewServerConfig(steps, kagen.Config{Cert: &tl.cert, TLSVersion: tls.VersionTLS13})
		require.NoError(t, err)
		tr := &Transport{TLS: TLSClient(tl.pool, "")}
		hc := &http.Client{Transport: tr, Timeout: 5 * time.Second}
		for i, st := range steps {
			var b io.Reader
			if st.Body != nil {
				b = bytes.NewReader(st.Body)
			}
			req, _ := http.NewRequest(st.Method, "https://127.0.0.1:"+itoa(srv.Port())+kagen.Path(i), b)
			resp, err := hc.Do(req)
			if err == nil {
				_, _ = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			time.Sleep(kagen.Gap)
		}
		tr.CloseIdleConnections()
		srv.Close()
		for _, p := range kagen.Check(steps, srv.Arrivals(), kagenRetryTransport) {
			t.Errorf("%d: %s", k, p)
		}
	}
}
