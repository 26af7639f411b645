package httpclient

import (
	"context"
	"errors"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// COMPAT H19: Godot's DNS lookups go through the engine's IP singleton
// (core/io/ip.cpp, §1.1.3, §1.5.11, §1.6.1), which keeps every answer for
// the rest of the process, holds at most 256 lookups (the next
// connect_to_host to a name is CANT_RESOLVE) and resolves them one at a time
// on one thread. The port has no engine (§7 D4): each Client resolves on
// its own, every time, with no limit and without waiting for another
// client's lookup (§7 D1) — one Go process may hold thousands of
// Godot-like clients. These tests pin that.

// TestResolverNoEngineCache: a second ConnectToHost to a name looks it up
// again, where Godot would reuse the answer it cached the first time.
func TestResolverNoEngineCache(t *testing.T) {
	srv := ts.New(t, ts.Respond(okResp))
	var calls atomic.Int32
	lookup := func(context.Context, string) ([]netip.Addr, error) {
		if calls.Add(1) == 1 {
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
		}
		return nil, errors.New("the DNS answer is gone")
	}
	c, _ := newClient(t, false)
	c.lookup = lookup
	require.NoError(t, connect(t, c, "cached.example", srv.Port(), nil))
	require.Equal(t, StatusConnected, c.Status())
	c.Close()

	require.NoError(t, c.ConnectToHost("cached.example", srv.Port(), nil))
	err := pollWhile(t, c, StatusResolving, StatusConnecting)
	assert.ErrorIs(t, err, ErrCantResolve, "the name is looked up again (Godot: the engine's cached address)")
	assert.Equal(t, StatusCantResolve, c.Status())
	assert.Equal(t, int32(2), calls.Load())
}

// TestResolverNoQueueLimit: with 256 lookups in progress, the 257th
// ConnectToHost to a name starts one more, where Godot's full queue gives
// ERR_CANT_RESOLVE and STATUS_CANT_RESOLVE at once.
func TestResolverNoQueueLimit(t *testing.T) {
	const godotMax = 256 // RESOLVER_MAX_QUERIES in core/io/ip.h
	var started atomic.Int32
	lookup := func(ctx context.Context, _ string) ([]netip.Addr, error) {
		started.Add(1)
		<-ctx.Done() // never answers: each client keeps its lookup
		return nil, ctx.Err()
	}
	clients := make([]*Client, 0, godotMax+1)
	t.Cleanup(func() {
		for _, c := range clients {
			c.Close()
		}
	})
	for i := range godotMax + 1 {
		c := New()
		c.lookup = lookup
		clients = append(clients, c)
		require.NoError(t, c.ConnectToHost("queued.example", 80, nil), "lookup %d", i)
		require.Equal(t, StatusResolving, c.Status(), "lookup %d", i)
	}
	require.Eventually(t, func() bool { return started.Load() == godotMax+1 }, driveTimeout, time.Millisecond,
		"every client's lookup runs")
}

// TestResolverLookupsConcurrent: while one client's lookup hangs, another
// client resolves and connects, where Godot's one resolver thread keeps the
// second name waiting until the first lookup returns.
func TestResolverLookupsConcurrent(t *testing.T) {
	srv := ts.New(t, ts.Respond(okResp))
	entered := make(chan struct{})
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	hung := func(ctx context.Context, _ string) ([]netip.Addr, error) {
		close(entered)
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil, errors.New("no answer")
	}
	a := New()
	a.lookup = hung
	t.Cleanup(a.Close)
	require.NoError(t, a.ConnectToHost("hung.example", srv.Port(), nil))
	<-entered

	b, _ := newClient(t, false)
	b.lookup, _ = fakeLookup("127.0.0.1")
	require.NoError(t, connect(t, b, "other.example", srv.Port(), nil))
	assert.Equal(t, StatusConnected, b.Status())
	assert.Equal(t, StatusResolving, a.Status(), "A's lookup still hangs")
}

// TestUniqueAddrs: the resolved list holds each address once, in the order
// first seen, IPv4-mapped addresses as IPv4 (Godot's resolver skips an
// address its list already holds, ip_unix.cpp; §1.6.1.2): a name listed
// twice in the hosts file is one connect attempt, not two.
func TestUniqueAddrs(t *testing.T) {
	p := netip.MustParseAddr
	got := uniqueAddrs([]netip.Addr{p("127.0.0.1"), p("::1"), p("::ffff:127.0.0.1"), p("10.0.0.1"), p("::1"), p("127.0.0.1")})
	assert.Equal(t, []netip.Addr{p("127.0.0.1"), p("::1"), p("10.0.0.1")}, got)
	assert.Empty(t, uniqueAddrs(nil))
}
