package httpclient

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/internal/kagen"
	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// Part 2 of the keep-alive harnesses (internal/kagen's Options.TLS,
// Resets; Config): the sequences of TestKagenTransport and TestKagenClient
// over TLS (records of drawn sizes, one record holding the end of a body
// and the bytes nobody asked for after it, close_notify right after a body
// with the TCP connection left open, close_notify or a bare FIN while
// idle, TLS 1.2 and 1.3), with RSTs (an idle kept connection reset; a
// reused connection reset, or closed, under the next request, before any
// byte of answer or after part of the head), and for the Transport
// through an HTTP proxy (absolute-form requests on one proxy connection)
// and through a CONNECT tunnel (the tunnel reused).
//
// Invariants, besides part 1's: a request whose reused connection died
// after part of its head came is never sent again (Transport's doc,
// net/http's rule) and fails; one that died before any byte is sent again
// once for an idempotent method only; through the HTTP proxy every
// request is in absolute form, through the tunnel every request is on a
// tunnelled connection.
//
// Modes: GDHTTP_KAGEN_MODE (tls, resets, http-proxy, connect; default
// all), GDHTTP_KAGEN_N (sequences per mode, default 12),
// GDHTTP_KAGEN_SEED, GDHTTP_KAGEN_ONLY.
type kagen2Mode struct {
	name  string
	opts  kagen.Options
	tls   bool
	proxy string // "", "http", "connect"
}

var kagen2TransportModes = []kagen2Mode{
	{name: "tls", opts: kagen.Options{Large: true, TLS: true, Resets: true}, tls: true},
	{name: "resets", opts: kagen.Options{Large: true, Resets: true}},
	{name: "http-proxy", opts: kagen.Options{Large: true, Resets: true}, proxy: "http"},
	{name: "connect", opts: kagen.Options{Large: true, TLS: true, Resets: true}, tls: true, proxy: "connect"},
}

// kagen2Host is the origin's name through a proxy (never resolved).
const kagen2Host = "kagen.invalid"

func kagen2Env(t *testing.T) (n int, seed uint64, only int, mode string) {
	n, seed, only = kagenEnv()
	if os.Getenv("GDHTTP_KAGEN_N") == "" {
		n = 12
	}
	return n, seed, only, os.Getenv("GDHTTP_KAGEN_MODE")
}

type kagen2TLS struct {
	cert tls.Certificate
	pool *x509.CertPool
}

func newKagen2TLS(t *testing.T) kagen2TLS {
	ca := ts.NewCA(t)
	return kagen2TLS{cert: ca.Issue(t, "127.0.0.1", kagen2Host), pool: ca.Pool()}
}

func TestKagen2Transport(t *testing.T) {
	runKagen2Cases(t, kagen2TransportModes, func(t *testing.T, m kagen2Mode, v uint16, tl kagen2TLS, steps []kagen.Step, _ int, tally map[string]int) {
		runKagen2Transport(t, m, v, tl, steps, tally)
	})
}

// runKagen2Cases runs each mode's generated sequences (kagen2Env's knobs),
// odd cases over TLS 1.2, even over TLS 1.3, then logs the tally and
// checks that no descriptor is left.
func runKagen2Cases(t *testing.T, modes []kagen2Mode, run func(t *testing.T, m kagen2Mode, v uint16, tl kagen2TLS, steps []kagen.Step, i int, tally map[string]int)) {
	n, seed, only, mode := kagen2Env(t)
	fds := drive.FDs()
	tl := newKagen2TLS(t)
	tally := map[string]int{}
	for k, m := range modes {
		if mode != "" && mode != m.name {
			continue
		}
		t.Run(m.name, func(t *testing.T) {
			for i := range n {
				if only >= 0 && i != only {
					continue
				}
				steps := kagen.Generate(seed*1_000_003+uint64(k*10_000+i), m.opts)
				v := uint16(tls.VersionTLS13)
				if i%2 == 1 {
					v = tls.VersionTLS12
				}
				t.Run(strconv.Itoa(i), func(t *testing.T) { run(t, m, v, tl, steps, i, tally) })
			}
		})
	}
	t.Logf("seed %d: %s", seed, drive.Counts(tally))
	drive.NoFDLeft(t, fds, 2)
}

func kagen2Config(m kagen2Mode, v uint16, tl kagen2TLS) kagen.Config {
	cfg := kagen.Config{Connect: m.proxy == "connect", TLSVersion: v}
	if m.tls {
		cfg.Cert = &tl.cert
	}
	return cfg
}

// kagen2Transport is a Transport for the mode towards srv, and the URL of
// step i.
func kagen2Transport(m kagen2Mode, tl kagen2TLS, port int) (*Transport, func(i int) string) {
	tr := &Transport{}
	if m.tls {
		tr.TLS = TLSClient(tl.pool, "")
	}
	scheme := "http"
	if m.tls {
		scheme = "https"
	}
	host := "127.0.0.1:" + strconv.Itoa(port)
	if m.proxy != "" {
		pu := &url.URL{Scheme: "http", Host: host}
		tr.Proxy = http.ProxyURL(pu)
		host = kagen2Host
	}
	return tr, func(i int) string { return scheme + "://" + host + kagen.Path(i) }
}

func kagen2TransportDo(t *testing.T, hc *http.Client, u string, st kagen.Step) (kagenResp, error) {
	var body io.Reader
	if st.Body != nil {
		body = bytes.NewReader(st.Body)
	}
	req, err := http.NewRequest(st.Method, u, body)
	require.NoError(t, err)
	resp, err := hc.Do(req)
	if err != nil {
		return kagenResp{Err: true}, err
	}
	b, berr := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	h := resp.Header.Clone()
	return kagenResp{Code: resp.StatusCode, Header: fmt.Sprint(h), Body: b, BodyErr: berr != nil, Close: resp.Close}, berr
}

func runKagen2Transport(t *testing.T, m kagen2Mode, v uint16, tl kagen2TLS, steps []kagen.Step, tally map[string]int) {
	cfg := kagen2Config(m, v, tl)
	srv, err := kagen.NewServerConfig(steps, cfg)
	require.NoError(t, err)
	ref, err := kagen.NewServerConfig(steps, cfg)
	require.NoError(t, err)
	defer ref.Close()
	defer srv.Close()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf(format+"\nmode %s tls=%x sequence:%s", append(args, m.name, v, kagenDescribe(steps))...)
	}
	tr, urlOf := kagen2Transport(m, tl, srv.Port())
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	for i, st := range steps {
		if i > 0 && steps[i-1].Answer.NeedsGap2() {
			srv.Settle(kagen.SettleWait) // its late ending has happened
			time.Sleep(kagen.Gap)
		}
		got, gerr := kagen2TransportDo(t, hc, urlOf(i), st)
		rt, refURL := kagen2Transport(m, tl, ref.Port())
		want, werr := kagen2TransportDo(t, &http.Client{Transport: rt, Timeout: 10 * time.Second}, refURL(i), st)
		rt.CloseIdleConnections()
		tally[m.name+"/"+st.Answer.Kind+fmt.Sprintf("/err=%v", got.Err || got.BodyErr)]++
		dropped, partial := false, false
		for _, a := range srv.Arrivals() {
			if a.Index == i {
				dropped = dropped || a.Dropped
				partial = partial || a.Partial
			}
		}
		if partial {
			tally["partial"]++
			if !got.Err {
				fail("step %d: part of the head came, then the reused connection ended: %v, want an error (no retry)", i, got)
			}
			continue
		}
		if dropped && !kagenRetryTransport(st.Method) {
			tally["dropped-post"]++
			if !got.Err {
				fail("step %d: a POST whose reused connection died before any answer: %v, want an error", i, got)
			}
			continue
		}
		if dropped {
			tally["retried"]++
		}
		if st.Answer.Kind == "chunked-ext" {
			got.Body, want.Body = nil, nil
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			fail("step %d (%s): kept Transport\n  got  %v (%v)\n  want %v (%v) (fresh Transport)", i, st.Answer.Kind, got, gerr, want, werr)
		}
		for _, p := range kagen.StrayBytes(steps, i, got.Body) {
			fail("%s", p)
		}
	}
	tr.CloseIdleConnections()
	srv.Close()
	arr := srv.Arrivals()
	for _, p := range kagen.Check(steps, arr, kagenRetryTransport) {
		fail("%s", p)
	}
	for _, a := range arr {
		if a.Pos > 0 {
			tally[m.name+"/reused"]++
		}
		switch m.proxy {
		case "http":
			if want := "http://" + kagen2Host + ":80" + kagen.Path(a.Index); a.Target != want {
				fail("request #%d through the HTTP proxy: target %q, want %q (§1.14.1, §1.7 rule 7)", a.Index, a.Target, want)
			}
		case "connect":
			if !a.Tunnel {
				fail("request #%d not in a CONNECT tunnel", a.Index)
			}
		}
	}
	tally["requests"] += len(steps)
	for _, e := range srv.Errors() {
		fail("server: %v", e)
	}
}

// TestKagen2Client: part 2 for the bare Client (Godot's loop): over TLS
// (tls mode) and with RSTs (both modes). A request whose connection the
// server ended under it (FIN or RST, with or without part of the head)
// ends CONNECTION_ERROR (Godot has no retry, §1.6.4.2); after a
// close_notify, a bare FIN or an RST while idle, the next Poll or the next
// request ends CONNECTION_ERROR (§1.6.3.1).
func TestKagen2Client(t *testing.T) {
	runKagen2Cases(t, kagen2TransportModes[:2], func(t *testing.T, m kagen2Mode, v uint16, tl kagen2TLS, steps []kagen.Step, i int, tally map[string]int) {
		runKagenClient(t, m, v, tl, steps, i%2 == 1, tally)
	})
}
