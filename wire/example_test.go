package wire_test

import (
	"fmt"
	"strings"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/wire"
)

// The exact bytes a Godot 4.3 game on Windows sends for an HTTPRequest GET
// with accept_gzip on (the node adds the Accept-Encoding line before the
// client's automatic headers). A bot that must look like that game sends the
// same User-Agent, as a "User-Agent: …" custom header of the node, with
// Transport.UserAgent or with Client.SetUserAgent.
func ExampleAppendRequest() {
	r := &wire.Request{
		Method:    wire.MethodGet,
		URL:       "/api/scores?level=3",
		Headers:   []string{"Accept-Encoding: gzip, deflate"},
		Host:      "game.example",
		Port:      443,
		TLS:       true,
		UserAgent: wire.UserAgent("4.3.stable.official", godot.OSName("windows")),
	}
	if err := wire.ValidateRequest(r, false); err != nil {
		fmt.Println(err)
		return
	}
	b := wire.AppendRequest(nil, r)
	fmt.Print(strings.ReplaceAll(string(b), "\r\n", "␍␊\n"))
	// Output:
	// GET /api/scores?level=3 HTTP/1.1␍␊
	// Accept-Encoding: gzip, deflate␍␊
	// Host: game.example␍␊
	// User-Agent: GodotEngine/4.3.stable.official (Windows)␍␊
	// Accept: */*␍␊
	// ␍␊
}

// Parsing a response head as it arrives: Parse returns ErrNeedMore until the
// head is complete, then the head and how many bytes it used (the body starts
// there).
func ExampleHeadParser_Parse() {
	var p wire.HeadParser
	var head wire.Head
	received := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n")
	_, err := p.Parse(received, &head)
	fmt.Println(err == wire.ErrNeedMore)

	received = append(received, "Content-Length: 5\r\n\r\nhello"...)
	used, err := p.Parse(received, &head)
	fmt.Println(err, head.Code, head.Headers, head.ContentLength, string(received[used:]))
	// Output:
	// true
	// <nil> 200 [Content-Type: text/plain Content-Length: 5] 5 hello
}
