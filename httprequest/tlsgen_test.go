package httprequest

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/internal/testserver"
	"github.com/gdhttp/gdhttp/internal/tlsgen"
)

// TestTLSGenNode is httpclient's TestTLSGen through the node: the same
// generated misbehaving TLS servers (internal/tlsgen), each run through
// every driver — Process (one step per frame), use_threads, Do into memory
// and Do streaming into a body writer — which must all give the result of
// §2 (gdhttp's, where §7 decides):
//   - a handshake refused (plain HTTP answer, a chain over mbedTLS's
//     Certificate limit, a required client certificate in TLS 1.2) → R5
//     (§2.6, §1.6.2.5); a required certificate in TLS 1.3 → R4 (the alert
//     answers the request); a stalled handshake → R13 at the timeout
//     (§2.11: Godot has no handshake timeout of its own);
//   - an end before the head is complete → R4 (§1.6.4.2);
//   - a whole fixed-length or chunked body → R0 with it, whatever ends the
//     connection after it (§2.6.1.7; COMPAT H15);
//   - a fixed-length body cut: close_notify → DISCONNECTED → R2 (§2.9.5),
//     anything else → R4 (§1.15.4); a chunked body cut: close_notify → R1
//     (§7 D3, COMPAT C3), anything else → R4;
//   - an until-close body: close_notify → R0 with the bytes sent (§2.9.6),
//     anything else → R4 (§1.15.4, COMPAT H8);
//   - code and headers only with R0/R1, a body only with R0 (empty with a
//     body writer, which then holds it); a body writer never gets more than
//     the body, and only its prefix;
//   - exactly one completion; the same result in every driver (an RST's
//     timing excepted: R0 or R4 after a whole body); no goroutine
//     (goleak) or descriptor left.
//
// GDHTTP_TLSGEN_N cases (default 30), GDHTTP_TLSGEN_SEED (default 1),
// GDHTTP_TLSGEN_ONLY=i runs case i alone.
func TestTLSGenNode(t *testing.T) {
	n := drive.EnvInt("GDHTTP_TLSGEN_N", 30)
	seed := uint64(drive.EnvInt("GDHTTP_TLSGEN_SEED", 1))
	only := drive.EnvInt("GDHTTP_TLSGEN_ONLY", -1)
	fds := drive.FDs()
	tally := map[string]int{}
	chains := map[[2]int]testserver.Chain{}
	for i := range n {
		if only >= 0 && i != only {
			continue
		}
		c := tlsgen.Gen(seed*1_000_003 + uint64(i))
		key := [2]int{c.Intermediates, c.Padding}
		ch, ok := chains[key]
		if !ok {
			ch = testserver.NewChain(t, c.Intermediates, c.Padding)
			chains[key] = ch
		}
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			tally[runTLSGenNode(t, c, ch)]++
		})
	}
	t.Logf("seed %d, %d cases:%s", seed, n, drive.Counts(tally))
	drive.NoFDLeft(t, fds, 2)
}

// tgNodeWant is the result the rules give for c; alt is another result
// an RST's timing allows (−1: none).
func tgNodeWant(c tlsgen.Case) (want Completion, alt Result) {
	alt = -1
	ok := Completion{ResultSuccess, 200, c.Headers(), nil}
	switch {
	case c.Kind == tlsgen.PlainHTTP, c.Kind == tlsgen.BigChain, c.Kind == tlsgen.RequireCert && c.Version == tls.VersionTLS12:
		return Completion{Result: ResultTLSHandshakeError}, alt
	case c.Kind == tlsgen.RequireCert:
		return Completion{Result: ResultConnectionError}, alt
	case c.Kind == tlsgen.Stall:
		return Completion{Result: ResultTimeout}, alt
	case c.Kind == tlsgen.HandshakeFIN && c.StallAt == 0:
		return Completion{Result: ResultCantConnect}, alt // COMPAT H9
	case c.Kind == tlsgen.HandshakeFIN:
		return Completion{Result: ResultTLSHandshakeError}, alt
	case c.End == tlsgen.TruncHold:
		return Completion{Result: ResultTimeout}, alt
	case c.InHead():
		return Completion{Result: ResultConnectionError}, alt
	}
	if c.Framing == tlsgen.UntilClose {
		if c.End == tlsgen.Notify {
			ok.Body = c.BodySent()
			return ok, alt
		}
		return Completion{Result: ResultConnectionError}, alt
	}
	if c.Whole() {
		ok.Body = c.Body
		if c.End == tlsgen.RST {
			alt = ResultConnectionError
		}
		return ok, alt
	}
	switch {
	case c.End != tlsgen.Notify:
		return Completion{Result: ResultConnectionError}, alt
	case c.Framing == tlsgen.Length:
		return Completion{Result: ResultCantConnect}, alt
	}
	return Completion{ResultChunkedBodySizeMismatch, 200, c.Headers(), nil}, alt
}

// tgDrivers are the four ways the node is driven here.
var tgDrivers = []string{"process", "threads", "do", "do-stream"}

// syncBuffer is a body writer the test reads after the request.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

func runTLSGenNode(t *testing.T, c tlsgen.Case, ch testserver.Chain) string {
	t.Logf("case: %v", c)
	srv, err := tlsgen.Serve(c, ch.Cert)
	require.NoError(t, err)
	want, alt := tgNodeWant(c)
	url := "https://127.0.0.1:" + strconv.Itoa(srv.Port()) + "/"
	var results []Result
	for _, d := range tgDrivers {
		n := New()
		watchPhases(t, n)
		require.NoError(t, n.SetTLSOptions(httpclient.TLSClient(ch.Pool(), "")))
		require.NoError(t, n.SetDownloadChunkSize(c.ReadChunk))
		if c.Kind == tlsgen.Stall || c.Kind == tlsgen.Normal && c.End == tlsgen.TruncHold {
			require.NoError(t, n.SetTimeout(150*time.Millisecond))
		}
		var w *syncBuffer
		var o outcome
		switch d {
		case "process", "threads":
			dr := drive.Process
			if d == "threads" {
				dr = drive.Threads
			}
			o = driverCase{dr}.run(t, n, url, nil, httpclient.MethodGet, nil)
		case "do", "do-stream":
			if d == "do-stream" {
				w = &syncBuffer{}
				require.NoError(t, n.SetBodyWriter(w))
			}
			ctx, cancel := context.WithTimeout(context.Background(), maxWait)
			cm, err := n.Do(ctx, url, nil, httpclient.MethodGet, nil)
			cancel()
			o = outcome{C: cm, Err: err, Callbacks: 1}
		}
		n.Close()
		results = append(results, o.C.Result)
		tgNodeCheck(t, d, c, want, alt, o, w)
	}
	for i, r := range results {
		if r != results[0] && alt < 0 {
			t.Errorf("the drivers differ: %v gave %v, %v gave %v", tgDrivers[0], results[0], tgDrivers[i], r)
		}
	}
	require.NoError(t, srv.Close(), "the server's machinery")
	if c.Kind == tlsgen.Normal {
		return fmt.Sprintf("%v/%v/%v %v", c.Framing, map[bool]string{true: "whole", false: "cut"}[c.Whole()], c.End, results[0])
	}
	return fmt.Sprintf("%v %v", c.Kind, results[0])
}

func tgNodeCheck(t *testing.T, d string, c tlsgen.Case, want Completion, alt Result, o outcome, w *syncBuffer) {
	t.Helper()
	got := o.C
	if got.Result != want.Result && got.Result != alt {
		t.Errorf("%s: result %v (code %d, %d body bytes; cause %v), want %v", d, got.Result, got.ResponseCode, len(got.Body), o.Err, want.Result)
		return
	}
	if o.Callbacks != 1 {
		t.Errorf("%s: %d completions", d, o.Callbacks)
	}
	if got.Result != want.Result {
		want = Completion{Result: got.Result} // the RST's alternative: R4
	}
	body := want.Body
	if w != nil {
		body = nil
	}
	if got.ResponseCode != want.ResponseCode || fmt.Sprint(got.Headers) != fmt.Sprint(want.Headers) || !bytes.Equal(got.Body, body) {
		t.Errorf("%s: (%v, %d, %q, %d bytes), want (%v, %d, %q, %d bytes)", d, got.Result, got.ResponseCode, got.Headers, len(got.Body),
			want.Result, want.ResponseCode, want.Headers, len(body))
	}
	if got.Result != ResultSuccess && o.Err == nil {
		t.Errorf("%s: %v without a cause", d, got.Result)
	}
	if w != nil {
		wb := w.Bytes()
		switch {
		case got.Result == ResultSuccess && !bytes.Equal(wb, want.Body):
			t.Errorf("%s: the body writer got %d bytes, want %d", d, len(wb), len(want.Body))
		case !bytes.HasPrefix(c.Body, wb):
			t.Errorf("%s: the body writer got %d bytes that are not a prefix of the body", d, len(wb))
		}
	}
}
