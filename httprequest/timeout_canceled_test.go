package httprequest

import (
	"bufio"
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/drive"
)

// canceledBeforeDeadline is a context with a deadline that is canceled
// before it (ended), and whose Done closes only when the test is over: the
// cancel's interrupt has not run when the request fails, as when Do's
// context.AfterFunc goroutine comes late.
type canceledBeforeDeadline struct {
	context.Context
	deadline time.Time
	ended    atomic.Bool
	done     chan struct{}
}

func (c *canceledBeforeDeadline) Deadline() (time.Time, bool) { return c.deadline, true }
func (c *canceledBeforeDeadline) Done() <-chan struct{}       { return c.done }

func (c *canceledBeforeDeadline) Err() error {
	if c.ended.Load() {
		return context.Canceled
	}
	return nil
}

// TestDoCanceledBeforeDeadlineNotTimeout: Do's context is canceled before
// its deadline, and the request fails (a reset) once the deadline has
// passed by the clock, before the cancel's interrupt ran. The failure was
// taken for the deadline (a blocking driver's failure past it is
// RESULT_TIMEOUT, overdue) with the context's cause: a RESULT_TIMEOUT
// completion whose error also said context.Canceled (the node chaos
// harness, DoResumable with a 1 ms timeout and a response function that
// canceled). A canceled context has no deadline left to pass: the
// completion is the failure's own, and its error does not name the
// context.
func TestDoCanceledBeforeDeadlineNotTimeout(t *testing.T) {
	ctx := &canceledBeforeDeadline{Context: context.Background(), deadline: time.Now().Add(5 * time.Millisecond), done: make(chan struct{})}
	t.Cleanup(func() { close(ctx.done) })
	ln := drive.Serve(t, func(conn net.Conn) {
		br := bufio.NewReader(conn)
		for { // the request head (a GET: no body)
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			if line == "\r\n" {
				break
			}
		}
		ctx.ended.Store(true)
		time.Sleep(30 * time.Millisecond) // past the deadline
		_ = conn.(*net.TCPConn).SetLinger(0)
		_ = conn.Close() // a reset
	})
	n := newNode(t)
	c, err := n.Do(ctx, urlFor("127.0.0.1", drive.Port(ln), "/"), nil, httpclient.MethodGet, nil)
	require.True(t, ctx.ended.Load(), "the request reached the server")
	if errors.Is(err, context.Canceled) {
		assert.Zero(t, c.Result, "the context's error comes with a zero completion: %v", c)
		assert.Nil(t, c.Headers)
		return
	}
	assert.Equal(t, ResultConnectionError, c.Result, "the reset's result (cause %v)", err)
	assert.False(t, errors.Is(err, context.DeadlineExceeded), "a canceled context's deadline did not pass: %v", err)
}
