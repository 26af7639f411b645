package drive

import (
	"syscall"
	"time"
)

// TCPSocket is one of the test process's TCP sockets as the kernel shows
// it: what a test cannot see through the code under test short of reading —
// bytes that have arrived, a FIN.
type TCPSocket struct {
	LocalPort, RemotePort int
	State                 TCPState
	Unread                int // bytes received and not yet read (up to 1 MiB)
}

// TCPState is the kernel's number for a TCP state.
type TCPState int

// The TCP states the tests look for (Linux's include/net/tcp_states.h).
const (
	TCPEstablished TCPState = 1
	TCPClose       TCPState = 7 // the peer's RST arrived (or not connected)
	TCPCloseWait   TCPState = 8 // the peer's FIN arrived; this end is still open
)

// AwaitTCP waits, looking every millisecond, until done accepts the sockets
// whose local or remote port is port, and reports whether it did before
// wait passed. The sockets are the process's own (a loopback server and its
// client both are). Where they cannot be looked at (not Linux) it pauses
// for pause instead — the time loopback needs to deliver — and reports
// true: the one place the tests keep a pause for these conditions.
func AwaitTCP(port int, wait, pause time.Duration, done func(socks []TCPSocket) bool) bool {
	if _, ok := tcpTable(port); !ok {
		time.Sleep(pause)
		return true
	}
	return Until(wait, func() bool {
		socks, _ := tcpTable(port)
		return done(socks)
	})
}

// AwaitSent waits, looking every millisecond, until everything written on c
// — its FIN included — has been acknowledged by the peer, so that it is in
// the peer's socket (or the connection was reset or closed), and reports
// whether that happened before wait passed. Where the send queue cannot be
// looked at (not Linux) it pauses for pause instead and reports true.
func AwaitSent(c syscall.Conn, wait, pause time.Duration) bool {
	if _, ok := unacked(c); !ok {
		time.Sleep(pause)
		return true
	}
	return Until(wait, func() bool {
		n, _ := unacked(c)
		return n == 0
	})
}

// AllRead is an AwaitTCP condition for the server on port: there is a
// client connected to it, and no client socket holds bytes unread — what
// the server wrote has been read (loopback delivers a write before the
// write returns).
func AllRead(port int) func(socks []TCPSocket) bool {
	return func(socks []TCPSocket) bool {
		clients := 0
		for _, s := range socks {
			if s.RemotePort == port && s.State == TCPEstablished {
				if s.Unread > 0 {
					return false
				}
				clients++
			}
		}
		return clients > 0
	}
}

// UnreadAtLeast is an AwaitTCP condition for the server on port: a client
// socket connected to it holds at least n bytes that arrived unread.
func UnreadAtLeast(port, n int) func(socks []TCPSocket) bool {
	return func(socks []TCPSocket) bool {
		for _, s := range socks {
			if s.RemotePort == port && s.Unread >= n {
				return true
			}
		}
		return false
	}
}

// NoneEstablished is an AwaitTCP condition for the server on port: no
// client socket connected to it is still established — each has the
// server's FIN or RST, or its client closed it.
func NoneEstablished(port int) func(socks []TCPSocket) bool {
	return func(socks []TCPSocket) bool {
		for _, s := range socks {
			if s.RemotePort == port && s.State == TCPEstablished {
				return false
			}
		}
		return true
	}
}

// PeerEnded is an AwaitTCP condition for the socket with local port local:
// its peer's FIN (CLOSE_WAIT) or RST (CLOSE) has arrived, behind every byte
// sent before it.
func PeerEnded(local int) func(socks []TCPSocket) bool {
	return func(socks []TCPSocket) bool {
		for _, s := range socks {
			if s.LocalPort == local && (s.State == TCPCloseWait || s.State == TCPClose) {
				return true
			}
		}
		return false
	}
}
