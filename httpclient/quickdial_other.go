//go:build !unix || gdhttp_portable

package httpclient

import (
	"net"
	"net/netip"
)

// quickConnectSupported: this platform connects on the connector goroutine
// only.
const quickConnectSupported = false

// quickConnect is never made here.
type quickConnect struct {
	p    dialParams
	addr netip.AddrPort
}

func startQuickConnect(dialParams, netip.AddrPort) (*quickConnect, error) { return nil, nil }

func (*quickConnect) check() (bool, error)           { return true, net.ErrClosed }
func (*quickConnect) wait(func(net.Conn) bool) error { return net.ErrClosed }
func (*quickConnect) conn() (net.Conn, error)        { return nil, net.ErrClosed }
func (*quickConnect) close()                         {}
