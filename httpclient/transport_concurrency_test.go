package httpclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// TestTransportCancelWhileConnecting: a request whose context ends as
// RoundTrip starts returns the context's error promptly, even when the
// connection would never complete (an https target that never answers the
// ClientHello). The Abort the context schedules could run before
// ConnectToHost, whose Close cleared it, and the blocking Polls then waited
// for good (found by the goroutine-safety audit; under -race within some
// twenty tries).
func TestTransportCancelWhileConnecting(t *testing.T) {
	silent := ts.New(t, ts.Script(ts.Hold()), ts.WithoutRecording())
	tr := &Transport{TLS: TLSClientUnsafe(nil), MaxIdleConnsPerHost: -1}
	defer tr.CloseIdleConnections()
	url := "https://" + silent.Addr() + "/"
	var wg sync.WaitGroup
	deadline := time.Now().Add(3 * time.Second)
	tries := 0
	for ; tries < 300 && time.Now().Before(deadline); tries++ {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		ret := make(chan error, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := tr.RoundTrip(req)
			ret <- err
		}()
		for range rand.IntN(40) {
			runtime.Gosched()
		}
		cancel()
		select {
		case err := <-ret:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("try %d: %v, want context.Canceled", tries, err)
			}
		case <-time.After(3 * time.Second):
			t.Errorf("try %d: RoundTrip still blocked 3 s after its context was canceled", tries)
			silent.Close() // ends the hung handshake
			wg.Wait()
			return
		}
	}
	t.Logf("%d tries", tries)
	wg.Wait()
}

// TestTransportHandoffChecked: with MaxConnsPerHost, a connection that turns
// idle while another request waits for a slot is handed to it only when
// Reusable holds, as one taken from the idle pool: bytes the server sent
// after the first response must not be read as the second's (§7 D2).
func TestTransportHandoffChecked(t *testing.T) {
	const first = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	const spoof = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nspoofd"
	const fresh = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh"
	for _, waiting := range []bool{false, true} {
		t.Run(fmt.Sprintf("second-waits-for-slot=%v", waiting), func(t *testing.T) {
			srv := ts.New(t, func(c *ts.Conn) {
				if c.Index() == 0 {
					ts.Script(ts.Read(), ts.Sleep(200*time.Millisecond), ts.WriteString(first+spoof), ts.Read(), ts.Hold())(c)
					return
				}
				ts.RespondEach(fresh)(c)
			})
			tr := &Transport{MaxConnsPerHost: 1}
			defer tr.CloseIdleConnections()
			get := func() string {
				req, err := http.NewRequest("GET", "http://"+srv.Addr()+"/", nil)
				if err != nil {
					return "error: " + err.Error()
				}
				resp, err := tr.RoundTrip(req)
				if err != nil {
					return "error: " + err.Error()
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return string(b)
			}
			var firstBody, second string
			if waiting {
				var wg sync.WaitGroup
				wg.Add(1)
				go func() {
					defer wg.Done()
					time.Sleep(80 * time.Millisecond) // waits for the slot while the first is answered
					second = get()
				}()
				firstBody = get()
				wg.Wait()
			} else {
				firstBody = get()
				time.Sleep(20 * time.Millisecond)
				second = get() // from the idle pool
			}
			if firstBody != "ok" || second != "fresh" {
				t.Errorf("first %q, second %q; want \"ok\", \"fresh\"", firstBody, second)
			}
		})
	}
}
