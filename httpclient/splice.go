package httpclient

import "os"

// WriteResponseBodyChunkTo reads the next piece of the body — the bytes
// ReadResponseBodyChunk would return, with the same status changes — and
// writes them to f at its offset. Where CanSpliceBody holds they go from
// the socket to the file without passing through user memory (splice(2),
// what io.Copy from a *net.TCPConn to an *os.File does); otherwise through
// a pooled buffer. It returns how many bytes it read; the error of writing
// them (nil when all were written — after a write error the rest of the
// piece is still read and dropped, as Godot reads a whole piece before it
// stores it, §2.6.1.6); and the read's error, as AppendResponseBodyChunk
// returns it. Outside BODY it reads nothing.
//
// Godot: HTTPClient.read_response_body_chunk() + FileAccess.store_buffer()
func (c *Client) WriteResponseBodyChunkTo(f *os.File) (n int, writeErr, err error) {
	c.enter()
	if err := c.bodyReadable(); err != nil {
		return 0, nil, err
	}
	if c.CanSpliceBody() {
		if n, writeErr, err, ok := c.spliceChunk(f); ok {
			return n, writeErr, err
		}
	}
	bp := readBufs.get(&c.bufHint)
	b, err := c.AppendResponseBodyChunk((*bp)[:0])
	if len(b) > 0 {
		_, writeErr = f.Write(b)
	}
	readBufs.put(bp, &c.bufHint)
	return len(b), writeErr, err
}
