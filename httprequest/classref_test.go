package httprequest_test

// Godot 4's class reference (doc/classes/HTTPRequest.xml) and the
// http_request_class.rst tutorial, claim by claim, against package
// httprequest. Where doc and C++ (scene/main/http_request.cpp) disagree, the
// C++ decides.

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

type crDone struct {
	Result  httprequest.Result
	Code    int
	Headers []string
	Body    []byte
}

// crNode makes a node whose completions are collected.
func crNode(t *testing.T) (*httprequest.HTTPRequest, *[]crDone) {
	t.Helper()
	n := httprequest.New()
	t.Cleanup(n.Close)
	got := new([]crDone)
	var mu sync.Mutex
	n.OnRequestCompleted(func(r httprequest.Result, code int, headers []string, body []byte) {
		mu.Lock()
		*got = append(*got, crDone{r, code, headers, body})
		mu.Unlock()
	})
	return n, got
}

// crFrames runs Process once per "frame" until a completion arrives.
func crFrames(t *testing.T, n *httprequest.HTTPRequest, got *[]crDone) crDone {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(*got) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no request_completed within 5s")
		}
		n.Process()
		time.Sleep(500 * time.Microsecond)
	}
	return (*got)[len(*got)-1]
}

// Result enum 0..13 (HTTPRequest.xml, Godot 4.x) and every property default.
func TestClassrefNodeConstantsAndDefaults(t *testing.T) {
	want := []struct {
		r    httprequest.Result
		v    int
		name string
	}{
		{httprequest.ResultSuccess, 0, "RESULT_SUCCESS"},
		{httprequest.ResultChunkedBodySizeMismatch, 1, "RESULT_CHUNKED_BODY_SIZE_MISMATCH"},
		{httprequest.ResultCantConnect, 2, "RESULT_CANT_CONNECT"},
		{httprequest.ResultCantResolve, 3, "RESULT_CANT_RESOLVE"},
		{httprequest.ResultConnectionError, 4, "RESULT_CONNECTION_ERROR"},
		{httprequest.ResultTLSHandshakeError, 5, "RESULT_TLS_HANDSHAKE_ERROR"},
		{httprequest.ResultNoResponse, 6, "RESULT_NO_RESPONSE"},
		{httprequest.ResultBodySizeLimitExceeded, 7, "RESULT_BODY_SIZE_LIMIT_EXCEEDED"},
		{httprequest.ResultBodyDecompressFailed, 8, "RESULT_BODY_DECOMPRESS_FAILED"},
		{httprequest.ResultRequestFailed, 9, "RESULT_REQUEST_FAILED"},
		{httprequest.ResultDownloadFileCantOpen, 10, "RESULT_DOWNLOAD_FILE_CANT_OPEN"},
		{httprequest.ResultDownloadFileWriteError, 11, "RESULT_DOWNLOAD_FILE_WRITE_ERROR"},
		{httprequest.ResultRedirectLimitReached, 12, "RESULT_REDIRECT_LIMIT_REACHED"},
		{httprequest.ResultTimeout, 13, "RESULT_TIMEOUT"},
	}
	for _, w := range want {
		assert.Equal(t, w.v, int(w.r), w.name)
		assert.Equal(t, w.name, w.r.String())
	}
	n := httprequest.New()
	defer n.Close()
	assert.True(t, n.IsAcceptingGzip(), "accept_gzip default true")
	assert.Equal(t, int64(-1), n.BodySizeLimit(), "body_size_limit default -1")
	assert.Equal(t, 65536, n.DownloadChunkSize(), "download_chunk_size default 65536")
	assert.Equal(t, "", n.DownloadFile(), "download_file default \"\"")
	assert.Equal(t, 8, n.MaxRedirects(), "max_redirects default 8")
	assert.Equal(t, time.Duration(0), n.Timeout(), "timeout default 0.0")
	assert.False(t, n.IsUsingThreads(), "use_threads default false")
	assert.Equal(t, httpclient.StatusDisconnected, n.HTTPClientStatus())
	assert.Equal(t, int64(-1), n.BodySize())
	assert.Equal(t, int64(0), n.DownloadedBytes())
}

// Setter contracts of the C++: download_chunk_size goes through
// HTTPClient.set_read_chunk_size (256…1<<24), set_timeout refuses < 0,
// set_tls_options refuses null and server options, max_redirects has no
// check (−1 = unlimited).
func TestClassrefNodeSetterRanges(t *testing.T) {
	n := httprequest.New()
	defer n.Close()
	for _, bad := range []int{255, 1<<24 + 1} {
		assert.ErrorIs(t, n.SetDownloadChunkSize(bad), godot.ErrInvalidParameter)
	}
	assert.Equal(t, 65536, n.DownloadChunkSize())
	assert.NoError(t, n.SetDownloadChunkSize(4096))
	assert.Equal(t, 4096, n.DownloadChunkSize())
	assert.Error(t, n.SetTimeout(-time.Second))
	assert.Equal(t, time.Duration(0), n.Timeout())
	assert.Error(t, n.SetTLSOptions(nil))
	assert.NoError(t, n.SetMaxRedirects(-1))
	assert.Equal(t, -1, n.MaxRedirects())
}

// request(): "Returns OK if request is successfully created. (Does not imply
// that the server has responded), ..., ERR_BUSY if still processing previous
// request, ERR_INVALID_PARAMETER if given string is not a valid URL format, or
// ERR_CANT_CONNECT if not using thread and the HTTPClient cannot connect to
// host." ERR_UNCONFIGURED (not in the tree) does not apply (§7 D4).
func TestClassrefNodeRequestReturns(t *testing.T) {
	srv := ts.New(t, ts.Script(ts.Read(), ts.Sleep(100*time.Millisecond),
		ts.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), ts.Hold()))
	n, got := crNode(t)
	require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
	assert.ErrorIs(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""), godot.ErrBusy)
	assert.ErrorIs(t, n.RequestRaw(srv.URL("/"), nil, httpclient.MethodGet, nil), godot.ErrBusy)
	d := crFrames(t, n, got)
	assert.Equal(t, httprequest.ResultSuccess, d.Result)
	assert.Equal(t, "ok", string(d.Body))

	for _, bad := range []string{"ftp://example.com/", "example.com/x", "", "http://"} {
		err := n.Request(bad, nil, httpclient.MethodGet, "")
		assert.ErrorIs(t, err, godot.ErrInvalidParameter, "%q", bad)
	}
	// A host shorter than 4 characters: connect_to_host fails at once.
	*got = nil
	err := n.Request("http://abc:1/", nil, httpclient.MethodGet, "")
	assert.ErrorIs(t, err, godot.ErrCantConnect)
	d = crFrames(t, n, got)
	assert.Equal(t, httprequest.ResultCantConnect, d.Result)
	// With threads: OK, then RESULT_CANT_CONNECT.
	require.NoError(t, n.SetUseThreads(true))
	*got = nil
	assert.NoError(t, n.Request("http://abc:1/", nil, httpclient.MethodGet, ""))
	d = crFrames(t, n, got)
	assert.Equal(t, httprequest.ResultCantConnect, d.Result)
}

// accept_gzip: "If true, this header will be added to each request:
// Accept-Encoding: gzip, deflate ... Any Response body declaring a
// Content-Encoding of either gzip or deflate will then be automatically
// decompressed ... If the user has specified their own Accept-Encoding
// header, then no header will be added regardless of accept_gzip. If false no
// header will be added, and no decompression will be performed on response
// bodies. The raw bytes of the response body will be returned".
func TestClassrefNodeAcceptGzip(t *testing.T) {
	plain := strings.Repeat("Godot ", 500)
	var gz, df bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(plain))
	zw.Close()
	// HTTP "deflate" is zlib-wrapped (RFC 1950); Godot's StreamPeerGZIP
	// decodes it with a zlib-only window, raw deflate fails (R8).
	fw := zlib.NewWriter(&df)
	fw.Write([]byte(plain))
	fw.Close()

	resp := func(enc string, b []byte) string {
		return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nContent-Length: %d\r\n\r\n%s", enc, len(b), b)
	}
	cases := []struct {
		name     string
		accept   bool
		headers  []string
		resp     string
		wantAE   string // the Accept-Encoding line sent, "" for none
		wantBody string
	}{
		{"gzip", true, nil, resp("gzip", gz.Bytes()), "Accept-Encoding: gzip, deflate", plain},
		{"deflate", true, nil, resp("deflate", df.Bytes()), "Accept-Encoding: gzip, deflate", plain},
		{"user-ae", true, []string{"Accept-Encoding: gzip"}, resp("gzip", gz.Bytes()), "Accept-Encoding: gzip", plain},
		{"off", false, nil, resp("gzip", gz.Bytes()), "", gz.String()},
		{"upper-case-value", true, nil, resp("GZIP", gz.Bytes()), "Accept-Encoding: gzip, deflate", plain},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := ts.New(t, ts.Respond(tc.resp))
			n, got := crNode(t)
			n.SetAcceptGzip(tc.accept)
			require.NoError(t, n.Request(srv.URL("/"), tc.headers, httpclient.MethodGet, ""))
			d := crFrames(t, n, got)
			assert.Equal(t, httprequest.ResultSuccess, d.Result)
			assert.Equal(t, tc.wantBody, string(d.Body))
			srv.Close()
			req := string(srv.Requests()[0])
			if tc.wantAE == "" {
				assert.NotContains(t, strings.ToLower(req), "accept-encoding")
			} else {
				assert.Equal(t, 1, strings.Count(strings.ToLower(req), "accept-encoding:"), req)
				assert.Contains(t, req, tc.wantAE+"\r\n")
			}
		})
	}
}

// body_size_limit: "Maximum allowed size for response bodies. If the response
// body is compressed, this will be used as the maximum allowed size for the
// decompressed body." (default -1: no limit).
func TestClassrefNodeBodySizeLimit(t *testing.T) {
	plain := strings.Repeat("a", 20000)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(plain))
	zw.Close()
	require.Less(t, gz.Len(), 1000)
	gzResp := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s", gz.Len(), gz.Bytes())
	cases := []struct {
		name  string
		limit int64
		resp  string
		want  httprequest.Result
	}{
		{"decompressed-over", 1000, gzResp, httprequest.ResultBodySizeLimitExceeded},
		{"decompressed-under", 20000, gzResp, httprequest.ResultSuccess},
		{"length-over", 3, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd", httprequest.ResultBodySizeLimitExceeded},
		{"chunked-over", 3, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n", httprequest.ResultBodySizeLimitExceeded},
		{"none", -1, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd", httprequest.ResultSuccess},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := ts.New(t, ts.Respond(tc.resp))
			n, got := crNode(t)
			require.NoError(t, n.SetBodySizeLimit(tc.limit))
			require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
			d := crFrames(t, n, got)
			assert.Equal(t, tc.want, d.Result)
			if tc.want != httprequest.ResultSuccess {
				assert.Empty(t, d.Body)
				assert.Equal(t, 200, d.Code)
			}
		})
	}
}

// download_chunk_size: "The size of the buffer used and maximum bytes to read
// per iteration." → at most that many body bytes per Process frame
// (get_downloaded_bytes grows by ≤ chunk size per frame).
func TestClassrefNodeDownloadChunkSizePerFrame(t *testing.T) {
	body := strings.Repeat("z", 4096)
	srv := ts.New(t, ts.Respond("HTTP/1.1 200 OK\r\nContent-Length: 4096\r\n\r\n"+body))
	n, got := crNode(t)
	require.NoError(t, n.SetDownloadChunkSize(256))
	require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
	prev := int64(0)
	deadline := time.Now().Add(5 * time.Second)
	for len(*got) == 0 && time.Now().Before(deadline) {
		n.Process()
		cur := n.DownloadedBytes()
		if len(*got) == 0 {
			assert.LessOrEqual(t, cur-prev, int64(256))
			prev = cur
		}
		time.Sleep(200 * time.Microsecond)
	}
	require.Len(t, *got, 1)
	assert.Equal(t, body, string((*got)[0].Body))
}

// download_file: "The file to download into. Will output any received file
// into it." The completion's body is empty (C++: body not appended when a
// file is open).
func TestClassrefNodeDownloadFile(t *testing.T) {
	srv := ts.New(t, ts.Respond("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"))
	path := filepath.Join(t.TempDir(), "out.bin")
	n, got := crNode(t)
	require.NoError(t, n.SetDownloadFile(path))
	require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
	d := crFrames(t, n, got)
	assert.Equal(t, httprequest.ResultSuccess, d.Result)
	assert.Empty(t, d.Body)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(b))
	assert.Equal(t, int64(5), n.DownloadedBytes())
	assert.Equal(t, int64(5), n.BodySize())
}

// max_redirects (default 8): "Maximum number of allowed redirects."; past it
// RESULT_REDIRECT_LIMIT_REACHED with the redirect's code and headers, empty body.
func TestClassrefNodeMaxRedirects(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/hop/", func(w http.ResponseWriter, r *http.Request) {
		var k int
		fmt.Sscanf(strings.TrimPrefix(r.URL.Path, "/hop/"), "%d", &k)
		if k == 0 {
			io.WriteString(w, "end")
			return
		}
		w.Header().Set("Location", fmt.Sprintf("/hop/%d", k-1))
		w.WriteHeader(302)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, tc := range []struct {
		max, hops int
		want      httprequest.Result
	}{{8, 8, httprequest.ResultSuccess}, {8, 9, httprequest.ResultRedirectLimitReached}, {0, 1, httprequest.ResultRedirectLimitReached}, {-1, 12, httprequest.ResultSuccess}} {
		t.Run(fmt.Sprintf("max%d_hops%d", tc.max, tc.hops), func(t *testing.T) {
			n, got := crNode(t)
			require.NoError(t, n.SetMaxRedirects(tc.max))
			require.NoError(t, n.Request(fmt.Sprintf("%s/hop/%d", srv.URL, tc.hops), nil, httpclient.MethodGet, ""))
			d := crFrames(t, n, got)
			assert.Equal(t, tc.want, d.Result)
			if tc.want == httprequest.ResultSuccess {
				assert.Equal(t, "end", string(d.Body))
			} else {
				assert.Equal(t, 302, d.Code)
				assert.Empty(t, d.Body)
			}
		})
	}
}

// timeout: "The duration to wait in seconds before a request times out. If
// timeout is set to 0.0 then the request will never time out." RESULT_TIMEOUT
// (13) with code 0, no headers, no body.
func TestClassrefNodeTimeout(t *testing.T) {
	slow := ts.New(t, ts.Script(ts.Read(), ts.Sleep(300*time.Millisecond),
		ts.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), ts.Hold()))
	n, got := crNode(t)
	require.NoError(t, n.SetTimeout(100*time.Millisecond))
	require.NoError(t, n.Request(slow.URL("/"), nil, httpclient.MethodGet, ""))
	d := crFrames(t, n, got)
	assert.Equal(t, httprequest.ResultTimeout, d.Result)
	assert.Equal(t, 0, d.Code)
	assert.Empty(t, d.Headers)
	assert.Empty(t, d.Body)
	// 0 = never.
	require.NoError(t, n.SetTimeout(0))
	*got = nil
	require.NoError(t, n.Request(slow.URL("/"), nil, httpclient.MethodGet, ""))
	d = crFrames(t, n, got)
	assert.Equal(t, httprequest.ResultSuccess, d.Result)
}

// cancel_request(): "Cancels the current request." — no completion, the node
// is free for a new request; get_http_client_status is DISCONNECTED.
func TestClassrefNodeCancel(t *testing.T) {
	for _, threads := range []bool{false, true} {
		t.Run(fmt.Sprint("threads=", threads), func(t *testing.T) {
			hold := ts.New(t, ts.Script(ts.Read(), ts.Hold()))
			n, got := crNode(t)
			require.NoError(t, n.SetUseThreads(threads))
			require.NoError(t, n.Request(hold.URL("/"), nil, httpclient.MethodGet, ""))
			for i := 0; i < 20; i++ {
				n.Process()
				time.Sleep(time.Millisecond)
			}
			n.CancelRequest()
			assert.Equal(t, httpclient.StatusDisconnected, n.HTTPClientStatus())
			for i := 0; i < 20; i++ {
				n.Process()
				time.Sleep(time.Millisecond)
			}
			assert.Empty(t, *got)
			ok := ts.New(t, ts.Respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
			require.NoError(t, n.Request(ok.URL("/"), nil, httpclient.MethodGet, ""))
			d := crFrames(t, n, got)
			assert.Equal(t, httprequest.ResultSuccess, d.Result)
		})
	}
}

// get_body_size(): "Some Web servers may not send a body length. In this
// case, the value returned will be -1. If using chunked transfer encoding,
// the body length will also be -1." get_downloaded_bytes(): "Returns the
// number of bytes this HTTPRequest downloaded."
func TestClassrefNodeBodySizeAndDownloaded(t *testing.T) {
	cases := []struct {
		name, resp string
		size, dl   int64
	}{
		{"length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 5, 5},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", -1, 5},
		{"until-close", "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello", -1, 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := ts.New(t, ts.RespondAndClose(tc.resp))
			n, got := crNode(t)
			var sizes []int64
			require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
			deadline := time.Now().Add(5 * time.Second)
			for len(*got) == 0 && time.Now().Before(deadline) {
				n.Process()
				if len(*got) == 0 && n.HTTPClientStatus() == httpclient.StatusBody {
					sizes = append(sizes, n.BodySize())
				}
				time.Sleep(200 * time.Microsecond)
			}
			require.Len(t, *got, 1)
			assert.Equal(t, "hello", string((*got)[0].Body))
			// -1 until the node's step has seen the head (as in Godot: body_len
			// is set by the first BODY step), then the length.
			for _, s := range sizes {
				assert.Contains(t, []int64{-1, tc.size}, s)
			}
			assert.Equal(t, tc.size, n.BodySize())
			assert.Equal(t, tc.dl, n.DownloadedBytes())
		})
	}
}

// request_completed(result, response_code, headers, body): the headers are
// the response's header lines (status line excluded), in order.
func TestClassrefNodeSignalArguments(t *testing.T) {
	srv := ts.New(t, ts.Respond("HTTP/1.1 404 Not Found\r\nX-One: 1\r\nContent-Length: 4\r\nX-Two: 2\r\n\r\nnope"))
	n, got := crNode(t)
	require.NoError(t, n.Request(srv.URL("/missing"), nil, httpclient.MethodGet, ""))
	d := crFrames(t, n, got)
	assert.Equal(t, crDone{httprequest.ResultSuccess, 404, []string{"X-One: 1", "Content-Length: 4", "X-Two: 2"}, []byte("nope")}, d)
}

// set_http_proxy(host, port) on the node: "Sets the proxy server for HTTP
// requests. The proxy server is unset if host is empty or port is -1."
func TestClassrefNodeHTTPProxy(t *testing.T) {
	proxy := ts.New(t, ts.Respond("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nproxied"))
	n, got := crNode(t)
	n.SetHTTPProxy(proxy.Host(), proxy.Port())
	require.NoError(t, n.Request("http://game.example/api?x=1", nil, httpclient.MethodGet, ""))
	d := crFrames(t, n, got)
	assert.Equal(t, "proxied", string(d.Body))
	proxy.Close()
	assert.True(t, strings.HasPrefix(string(proxy.Requests()[0]), "GET http://game.example:80/api?x=1 HTTP/1.1\r\n"), string(proxy.Requests()[0]))

	direct := ts.New(t, ts.Respond("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\ndirect"))
	n.SetHTTPProxy(proxy.Host(), -1)
	*got = nil
	require.NoError(t, n.Request(direct.URL("/d"), nil, httpclient.MethodGet, ""))
	d = crFrames(t, n, got)
	assert.Equal(t, "direct", string(d.Body))
}

// The class description's REST example and the http_request_class.rst
// tutorial: GET JSON, POST JSON with Content-Type, a custom User-Agent that
// replaces Godot's ("Setting custom HTTP headers"), and the PNG example.
func TestClassrefTutorialHTTPRequest(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/512" {
			img := image.NewRGBA(image.Rect(0, 0, 512, 512))
			img.Set(3, 4, color.RGBA{1, 2, 3, 255})
			w.Header().Set("Content-Type", "image/png")
			png.Encode(w, img)
			return
		}
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"name":    "4.5.1-stable",
			"headers": map[string]string{"User-Agent": r.UserAgent(), "Content-Type": r.Header.Get("Content-Type")},
			"uas":     len(r.Header.Values("User-Agent")),
			"method":  r.Method,
			"data":    string(body),
		})
	}))
	defer srv.Close()
	type reply struct {
		Name    string
		Headers map[string]string
		UAs     int
		Method  string
		Data    string
	}
	decode := func(d crDone) reply {
		var r reply
		require.NoError(t, json.Unmarshal(d.Body, &r), string(d.Body))
		return r
	}
	n, got := crNode(t)

	// $HTTPRequest.request("https://api.github.com/repos/godotengine/godot/releases/latest")
	require.NoError(t, n.Request(srv.URL+"/repos/godotengine/godot/releases/latest", nil, httpclient.MethodGet, ""))
	d := crFrames(t, n, got)
	assert.Equal(t, httprequest.ResultSuccess, d.Result)
	r := decode(d)
	assert.Equal(t, "4.5.1-stable", r.Name)
	assert.True(t, strings.HasPrefix(r.Headers["User-Agent"], "GodotEngine/4.5.1.stable.official ("), r.Headers["User-Agent"])

	// var json = JSON.stringify(data_to_send); headers = ["Content-Type: application/json"]
	// $HTTPRequest.request(url, headers, HTTPClient.METHOD_POST, json)
	payload := `{"name":"Godette"}`
	*got = nil
	require.NoError(t, n.Request(srv.URL+"/post", []string{"Content-Type: application/json"}, httpclient.MethodPost, payload))
	r = decode(crFrames(t, n, got))
	assert.Equal(t, "POST", r.Method)
	assert.Equal(t, payload, r.Data)
	assert.Equal(t, "application/json", r.Headers["Content-Type"])

	// $HTTPRequest.request(url, ["User-Agent: YourCustomUserAgent"])
	*got = nil
	require.NoError(t, n.Request(srv.URL+"/ua", []string{"User-Agent: YourCustomUserAgent"}, httpclient.MethodGet, ""))
	r = decode(crFrames(t, n, got))
	assert.Equal(t, "YourCustomUserAgent", r.Headers["User-Agent"])
	assert.Equal(t, 1, r.UAs)

	// The PNG example: body → image.load_png_from_buffer.
	*got = nil
	require.NoError(t, n.Request(srv.URL+"/512", nil, httpclient.MethodGet, ""))
	d = crFrames(t, n, got)
	require.Equal(t, httprequest.ResultSuccess, d.Result)
	img, err := png.Decode(bytes.NewReader(d.Body))
	require.NoError(t, err)
	assert.Equal(t, 512, img.Bounds().Dx())
	rr, gg, bb, _ := img.At(3, 4).RGBA()
	assert.Equal(t, []uint32{1, 2, 3}, []uint32{rr >> 8, gg >> 8, bb >> 8})
}

// A GET with request_data: "the payload sent via request_data might be
// ignored by the server" — i.e. it is sent (C++ request(): Content-Length
// and body whatever the method).
func TestClassrefNodeGETBodySent(t *testing.T) {
	srv := ts.New(t, ts.Respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
	n, got := crNode(t)
	require.NoError(t, n.Request(srv.URL("/q"), nil, httpclient.MethodGet, "payload"))
	crFrames(t, n, got)
	srv.Close()
	req := string(srv.Requests()[0])
	assert.Contains(t, req, "Content-Length: 7\r\n")
	assert.True(t, strings.HasSuffix(req, "\r\n\r\npayload"), req)
}

// download_file that cannot be opened: RESULT_DOWNLOAD_FILE_CANT_OPEN (10)
// with the code and headers. A response without a body (Content-Length: 0)
// completes before Godot opens the file (C++: the "!is_response_chunked() &&
// get_response_body_length() == 0" success comes before FileAccess::open), so
// an existing file is left as it was.
func TestClassrefNodeDownloadFileEdges(t *testing.T) {
	srv := ts.New(t, ts.Respond("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"))
	n, got := crNode(t)
	require.NoError(t, n.SetDownloadFile(filepath.Join(t.TempDir(), "no", "such", "dir", "f")))
	require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
	d := crFrames(t, n, got)
	assert.Equal(t, httprequest.ResultDownloadFileCantOpen, d.Result)
	assert.Equal(t, 200, d.Code)
	assert.Equal(t, []string{"Content-Length: 5"}, d.Headers)

	for _, resp := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 204 No Content\r\nServer: t\r\n\r\n",
	} {
		empty := ts.New(t, ts.Respond(resp))
		path := filepath.Join(t.TempDir(), "keep.txt")
		require.NoError(t, os.WriteFile(path, []byte("old"), 0o644))
		n2, got2 := crNode(t)
		require.NoError(t, n2.SetDownloadFile(path))
		require.NoError(t, n2.Request(empty.URL("/"), nil, httpclient.MethodGet, ""))
		d = crFrames(t, n2, got2)
		assert.Equal(t, httprequest.ResultSuccess, d.Result)
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, "old", string(b), "%q", resp)
	}
}

// request_raw(): "using a raw array of bytes for the request body".
func TestClassrefNodeRequestRaw(t *testing.T) {
	srv := ts.New(t, ts.Respond("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"))
	n, got := crNode(t)
	body := []byte{0, 1, 2, 0xff, '\r', '\n'}
	require.NoError(t, n.RequestRaw(srv.URL("/up"), []string{"Content-Type: application/octet-stream"}, httpclient.MethodPut, body))
	d := crFrames(t, n, got)
	assert.Equal(t, 201, d.Code)
	srv.Close()
	req := srv.Requests()[0]
	assert.True(t, bytes.HasPrefix(req, []byte("PUT /up HTTP/1.1\r\n")), string(req))
	assert.True(t, bytes.HasSuffix(req, append([]byte("\r\n\r\n"), body...)))
	assert.Contains(t, string(req), "Content-Length: 6\r\n")
}

// Decompression details the docs imply, checked against the C++:
// get_downloaded_bytes counts the bytes read from the connection
// (downloaded.add(compressed.size())), get_body_size is the Content-Length,
// download_file receives the decompressed bytes, and with accept_gzip false
// a user's own "Accept-Encoding: gzip" gets the raw bytes back.
func TestClassrefNodeGzipCounters(t *testing.T) {
	plain := strings.Repeat("0123456789", 1000)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(plain))
	zw.Close()
	resp := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s", gz.Len(), gz.Bytes())
	for _, threads := range []bool{false, true} {
		t.Run(fmt.Sprint("threads=", threads), func(t *testing.T) {
			srv := ts.New(t, ts.RespondEach(resp))
			n, got := crNode(t)
			require.NoError(t, n.SetUseThreads(threads))
			require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
			d := crFrames(t, n, got)
			assert.Equal(t, plain, string(d.Body))
			assert.Equal(t, int64(gz.Len()), n.DownloadedBytes())
			assert.Equal(t, int64(gz.Len()), n.BodySize())

			path := filepath.Join(t.TempDir(), "dl")
			require.NoError(t, n.SetDownloadFile(path))
			*got = nil
			require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
			d = crFrames(t, n, got)
			assert.Equal(t, httprequest.ResultSuccess, d.Result)
			b, _ := os.ReadFile(path)
			assert.Equal(t, plain, string(b))
			require.NoError(t, n.SetDownloadFile(""))

			n.SetAcceptGzip(false)
			*got = nil
			require.NoError(t, n.Request(srv.URL("/"), []string{"Accept-Encoding: gzip"}, httpclient.MethodGet, ""))
			d = crFrames(t, n, got)
			assert.Equal(t, gz.Bytes(), d.Body)
		})
	}
}

// cancel_request() keeps get_body_size and get_downloaded_bytes (C++
// cancel_request resets body, got_response, response_code, request_sent,
// requesting — not body_len nor downloaded); the next request() resets them
// (_parse_url).
func TestClassrefNodeCountersAfterCancel(t *testing.T) {
	for _, threads := range []bool{false, true} {
		t.Run(fmt.Sprint("threads=", threads), func(t *testing.T) {
			srv := ts.New(t, ts.Script(ts.Read(), ts.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789"), ts.Hold()))
			n, got := crNode(t)
			require.NoError(t, n.SetUseThreads(threads))
			require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
			// With use_threads the worker's client is blocking: one read asks
			// MIN(body_left, read_chunk_size) = 100 bytes and waits for all of
			// them (C++ _get_http_data), so nothing is counted yet.
			want := int64(10)
			if threads {
				want = 0
			}
			deadline := time.Now().Add(3 * time.Second)
			for (n.DownloadedBytes() < want || n.BodySize() != 100) && time.Now().Before(deadline) {
				n.Process()
				time.Sleep(time.Millisecond)
			}
			time.Sleep(20 * time.Millisecond)
			n.Process()
			require.Equal(t, want, n.DownloadedBytes())
			require.Equal(t, int64(100), n.BodySize())
			n.CancelRequest()
			// The blocked read ends (Godot: when the connection ends; here:
			// aborted, §7 D1 Q12) with the 10 bytes it got: they are counted,
			// as Godot's _get_http_data returns r_received with the error.
			assert.Equal(t, int64(10), n.DownloadedBytes())
			assert.Equal(t, int64(100), n.BodySize())
			assert.Empty(t, *got)
		})
	}
}

// "An Accept-Encoding header will be automatically added to each of your
// requests, unless one is already specified." C++ has_header: strip_edges,
// to_lower, begins_with("accept-encoding").
func TestClassrefNodeAcceptEncodingDetection(t *testing.T) {
	cases := []struct {
		hdr   string
		added bool
	}{
		{"  accept-encoding: br", false},
		{"ACCEPT-ENCODING: identity", false},
		{"Accept-Encodings: x", false},
		{"X-Accept-Encoding: y", true},
	}
	for _, tc := range cases {
		t.Run(tc.hdr, func(t *testing.T) {
			srv := ts.New(t, ts.Respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
			n, got := crNode(t)
			require.NoError(t, n.Request(srv.URL("/"), []string{tc.hdr}, httpclient.MethodGet, ""))
			crFrames(t, n, got)
			srv.Close()
			req := string(srv.Requests()[0])
			assert.Contains(t, req, "\r\n"+tc.hdr+"\r\n")
			assert.Equal(t, tc.added, strings.Contains(req, "\r\nAccept-Encoding: gzip, deflate\r\n"), req)
		})
	}
}

// "You have to wait for a request to finish before sending another one"
// (tutorial): in request_completed the request has finished — C++
// _request_done calls cancel_request() before emit_signal — so a new request
// may start from the handler; the client status there is DISCONNECTED.
func TestClassrefNodeRequestFromHandler(t *testing.T) {
	for _, threads := range []bool{false, true} {
		t.Run(fmt.Sprint("threads=", threads), func(t *testing.T) {
			srv := ts.New(t, ts.Respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
			n := httprequest.New()
			defer n.Close()
			require.NoError(t, n.SetUseThreads(threads))
			var results []httprequest.Result
			var statuses []httpclient.Status
			var errs []error
			n.OnRequestCompleted(func(r httprequest.Result, code int, headers []string, body []byte) {
				results = append(results, r)
				statuses = append(statuses, n.HTTPClientStatus())
				if len(results) < 3 {
					errs = append(errs, n.Request(srv.URL("/again"), nil, httpclient.MethodGet, ""))
				}
			})
			require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
			deadline := time.Now().Add(5 * time.Second)
			for len(results) < 3 && time.Now().Before(deadline) {
				n.Process()
				time.Sleep(500 * time.Microsecond)
			}
			assert.Equal(t, []httprequest.Result{0, 0, 0}, results)
			assert.Equal(t, []error{nil, nil}, errs)
			for _, s := range statuses {
				assert.Equal(t, httpclient.StatusDisconnected, s)
			}
		})
	}
}

// timeout with use_threads (a worker blocked in a read): RESULT_TIMEOUT,
// delivered by Process.
func TestClassrefNodeTimeoutThreads(t *testing.T) {
	hold := ts.New(t, ts.Script(ts.Read(), ts.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01"), ts.Hold()))
	n, got := crNode(t)
	require.NoError(t, n.SetUseThreads(true))
	require.NoError(t, n.SetTimeout(150*time.Millisecond))
	start := time.Now()
	require.NoError(t, n.Request(hold.URL("/"), nil, httpclient.MethodGet, ""))
	d := crFrames(t, n, got)
	assert.Equal(t, httprequest.ResultTimeout, d.Result)
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.Equal(t, 0, d.Code)
}

// set_tls_options(): "Sets the TLSOptions to be used when connecting to an
// HTTPS server." Default TLSOptions.client() (system roots): a test CA is not
// trusted → RESULT_TLS_HANDSHAKE_ERROR (5); with the CA → success.
func TestClassrefNodeTLSOptions(t *testing.T) {
	ca := ts.NewCA(t)
	srv := ts.NewTLS(t, ca.Issue(t, "localhost"), ts.Respond("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntls"))
	url := fmt.Sprintf("https://localhost:%d/post", srv.Port())
	n, got := crNode(t)
	require.NoError(t, n.Request(url, nil, httpclient.MethodPost, `{"name":"Godette"}`))
	d := crFrames(t, n, got)
	assert.Equal(t, httprequest.ResultTLSHandshakeError, d.Result)
	require.NoError(t, n.SetTLSOptions(httpclient.TLSClient(ca.Pool(), "")))
	*got = nil
	require.NoError(t, n.Request(url, nil, httpclient.MethodPost, `{"name":"Godette"}`))
	d = crFrames(t, n, got)
	assert.Equal(t, httprequest.ResultSuccess, d.Result)
	assert.Equal(t, "tls", string(d.Body))
	assert.Error(t, n.SetTLSOptions(httpclient.TLSServer(ca.Issue(t, "x"))))
}

// get_http_client_status() without threads moves only in the frame (Process):
// the node polls its client in _update_connection only.
func TestClassrefNodeStatusOnlyInProcess(t *testing.T) {
	srv := ts.New(t, ts.Respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	n, got := crNode(t)
	require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
	s := n.HTTPClientStatus()
	assert.Contains(t, []httpclient.Status{httpclient.StatusConnecting, httpclient.StatusResolving}, s)
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, s, n.HTTPClientStatus())
	deadline := time.Now().Add(3 * time.Second)
	for n.HTTPClientStatus() != httpclient.StatusRequesting && time.Now().Before(deadline) {
		n.Process()
		time.Sleep(time.Millisecond)
	}
	require.Equal(t, httpclient.StatusRequesting, n.HTTPClientStatus())
	time.Sleep(50 * time.Millisecond) // the whole response has arrived
	assert.Equal(t, httpclient.StatusRequesting, n.HTTPClientStatus())
	d := crFrames(t, n, got)
	assert.Equal(t, "ok", string(d.Body))
}
