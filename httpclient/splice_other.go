//go:build !linux || gdhttp_portable

package httpclient

import "os"

// CanSpliceBody reports whether WriteResponseBodyChunkTo moves the next
// piece of the body without copying it: only on Linux (splice(2)).
func (c *Client) CanSpliceBody() bool { return false }

func (c *Client) spliceChunk(*os.File) (int, error, error, bool) { return 0, nil, nil, false }

// clientPipe is empty where there is no splice(2).
type clientPipe struct{}

func (c *Client) releasePipe() {}
