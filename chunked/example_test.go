package chunked_test

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gdhttp/gdhttp/chunked"
)

// Reader decodes a chunked body from any io.Reader; a body cut short is
// io.ErrUnexpectedEOF, and a chunk Godot refuses is an *Error of its Kind.
func ExampleNewReader() {
	body, err := io.ReadAll(chunked.NewReader(strings.NewReader("6\r\nhello,\r\n7\r\n world!\r\n0\r\n\r\n")))
	fmt.Printf("%q %v\n", body, err)

	_, err = io.ReadAll(chunked.NewReader(strings.NewReader("6\r\nhel")))
	fmt.Println(errors.Is(err, io.ErrUnexpectedEOF))

	_, err = io.ReadAll(chunked.NewReader(strings.NewReader("1000001\r\n")))
	fmt.Println(errors.Is(err, chunked.ErrTooBig), err)
	// Output:
	// "hello, world!" <nil>
	// true
	// true chunked: HTTP Chunk too big!! >16mb at offset 6 (size 16777217)
}

// Decoder is the sans-I/O core: the caller feeds it whatever bytes arrived,
// split anywhere, and gets the chunk data and the events back.
func ExampleDecoder_Decode() {
	var d chunked.Decoder
	dst := make([]byte, 64)
	var out []byte
	for _, piece := range []string{"5\r\nhel", "lo\r\n0\r", "\n\r\n"} {
		src := []byte(piece)
		for len(src) > 0 && !d.Done() {
			nDst, nSrc, ev, err := d.Decode(dst, src)
			if err != nil {
				fmt.Println(err)
				return
			}
			out = append(out, dst[:nDst]...)
			src = src[nSrc:]
			if ev != chunked.EventNone {
				fmt.Println(ev, string(out))
			}
		}
	}
	fmt.Println(d.Done())
	// Output:
	// EventChunkEnd hello
	// EventEnd hello
	// true
}
