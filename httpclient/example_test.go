package httpclient_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/gdhttp/gdhttp/httpclient"
)

// serveOnce answers one request on a loopback listener with resp and
// returns the listener's address and a channel closed when it is done.
func serveOnce(resp string) (*net.TCPAddr, <-chan struct{}) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer ln.Close()
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		buf := make([]byte, 4096)
		n := 0
		for !bytes.Contains(buf[:n], []byte("\r\n\r\n")) {
			m, err := conn.Read(buf[n:])
			if err != nil {
				return
			}
			n += m
		}
		_, _ = conn.Write([]byte(resp))
		_, _ = io.Copy(io.Discard, conn) // until the client closes
	}()
	return ln.Addr().(*net.TCPAddr), done
}

// The Godot way: poll once per frame and read the body in chunks.
func Example() {
	addr, done := serveOnce("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nhello, world!")
	defer func() { <-done }()

	c := httpclient.New()
	defer c.Close()
	if err := c.ConnectToHost("127.0.0.1", addr.Port, nil); err != nil {
		fmt.Println(err)
		return
	}
	for c.Status() == httpclient.StatusConnecting || c.Status() == httpclient.StatusResolving {
		_ = c.Poll()
		time.Sleep(time.Millisecond) // a frame
	}
	if err := c.Request(httpclient.MethodGet, "/hello", []string{"X-Example: 1"}, ""); err != nil {
		fmt.Println(err)
		return
	}
	for c.Status() == httpclient.StatusRequesting {
		_ = c.Poll()
		time.Sleep(time.Millisecond)
	}
	fmt.Println(c.ResponseCode(), c.ResponseHeaders())
	var body []byte
	for c.Status() == httpclient.StatusBody {
		_ = c.Poll()
		body = append(body, c.ReadResponseBodyChunk()...)
		time.Sleep(time.Millisecond)
	}
	fmt.Printf("%s, then %v\n", body, c.Status())
	// Output:
	// 200 [Content-Type: text/plain Content-Length: 13]
	// hello, world!, then STATUS_CONNECTED
}

// Blocking mode and the zero-copy reader: Poll waits for the response head,
// BodyReader streams the body.
func ExampleClient_BodyReader() {
	addr, done := serveOnce("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello,\r\n7\r\n world!\r\n0\r\n\r\n")
	defer func() { <-done }()

	c := httpclient.New()
	defer c.Close()
	c.SetBlockingMode(true)
	_ = c.ConnectToHost("127.0.0.1", addr.Port, nil)
	for c.Status() == httpclient.StatusConnecting {
		_ = c.Poll()
	}
	_ = c.Request(httpclient.MethodGet, "/", nil, "")
	_ = c.Poll() // REQUESTING → BODY
	body, err := io.ReadAll(c.BodyReader())
	fmt.Printf("%q %v %v chunked=%v\n", body, err, c.Status(), c.IsResponseChunked())
	// Output:
	// "hello, world!" <nil> STATUS_CONNECTED chunked=true
}

// SetConnection: the client sends its request over a connection made
// elsewhere (§1.13). As in Godot it never learned a host, so send your own
// Host header.
func ExampleClient_SetConnection() {
	addr, done := serveOnce("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	defer func() { <-done }()

	conn, err := net.Dial("tcp", addr.String())
	if err != nil {
		fmt.Println(err)
		return
	}
	c := httpclient.New()
	defer c.Close() // closes conn too
	c.SetBlockingMode(true)
	if err := c.SetConnection(conn); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Status(), c.Connection() == conn)
	_ = c.Request(httpclient.MethodGet, "/", []string{"Host: example.com"}, "")
	_ = c.Poll() // REQUESTING → BODY
	body, _ := io.ReadAll(c.BodyReader())
	fmt.Printf("%d %s %v\n", c.ResponseCode(), body, c.Status())
	// Output:
	// STATUS_CONNECTED true
	// 200 ok STATUS_CONNECTED
}

// QueryStringFromDict with the class reference's fields: a []any is
// Godot's Array and repeats its key; a []int is a packed array, one value.
func ExampleQueryStringFromDict() {
	fmt.Println(httpclient.QueryStringFromDict([]httpclient.QueryField{
		{Key: "single", Value: 123},
		{Key: "not_valued", Value: nil},
		{Key: "multiple", Value: []any{22, 33, 44}},
	}))
	fmt.Println(httpclient.QueryStringFromDict([]httpclient.QueryField{{Key: "packed", Value: []int{22, 33, 44}}}))
	// Output:
	// single=123&not_valued&multiple=22&multiple=33&multiple=44
	// packed=%5B22%2C%2033%2C%2044%5D
}
