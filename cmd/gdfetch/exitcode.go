package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/url"
	"strings"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
)

// Exit statuses. A request that completed maps its Result to curl's number
// for the same failure where curl has one (doc.go has the table).
const (
	exitOK          = 0
	exitFailed      = 1   // RESULT_REQUEST_FAILED (never produced) and internal failures
	exitUsage       = 2   // a bad flag or argument
	exitProtocol    = 1   // CURLE_UNSUPPORTED_PROTOCOL: a scheme other than http and https
	exitURL         = 3   // CURLE_URL_MALFORMAT
	exitRead        = 26  // CURLE_READ_ERROR: a -d, -T, -F or -H @ file that cannot be read
	exitResolve     = 6   // CURLE_COULDNT_RESOLVE_HOST
	exitProxyName   = 5   // CURLE_COULDNT_RESOLVE_PROXY
	exitConnect     = 7   // CURLE_COULDNT_CONNECT
	exitPartial     = 18  // CURLE_PARTIAL_FILE
	exitHTTPError   = 22  // CURLE_HTTP_RETURNED_ERROR (--fail)
	exitWrite       = 23  // CURLE_WRITE_ERROR
	exitTimeout     = 28  // CURLE_OPERATION_TIMEDOUT
	exitTLS         = 35  // CURLE_SSL_CONNECT_ERROR
	exitRedirects   = 47  // CURLE_TOO_MANY_REDIRECTS
	exitNoResponse  = 52  // CURLE_GOT_NOTHING
	exitConnection  = 56  // CURLE_RECV_ERROR
	exitPeerVerify  = 60  // CURLE_PEER_FAILED_VERIFICATION
	exitDecode      = 61  // CURLE_BAD_CONTENT_ENCODING
	exitBodySize    = 63  // CURLE_FILESIZE_EXCEEDED
	exitCACert      = 77  // CURLE_SSL_CACERT_BADFILE: a --cacert FILE not readable or without a PEM certificate
	exitInterrupted = 130 // SIGINT: the request was canceled
)

// resultExit is the exit status of a completion's Result; cause refines
// three of them as curl tells the cases apart:
//   - RESULT_CANT_CONNECT: a fixed-length body cut short is Godot's
//     RESULT_CANT_CONNECT too (§2.9.5), but for a curl user it is a partial
//     transfer (18), not a failed connect (7);
//   - RESULT_TLS_HANDSHAKE_ERROR: a certificate that fails verification
//     (untrusted, another name, expired: isVerifyError) is 60, any other
//     handshake failure 35;
//   - RESULT_CONNECTION_ERROR: the peer closed the connection before the
//     response head was complete (httpclient.ErrPeerClosed) is 52, curl's
//     "Empty reply from server"; any other failure (a reset) 56. The cause
//     does not say whether any byte of the response arrived, but curl 7.88
//     gives 52 for part of a status line too, and for a complete status
//     line with an unfinished head it succeeds where Godot fails.
func resultExit(r httprequest.Result, cause error) int {
	switch r {
	case httprequest.ResultSuccess:
		return exitOK
	case httprequest.ResultChunkedBodySizeMismatch:
		return exitPartial
	case httprequest.ResultCantConnect:
		var cut *httpclient.HandshakeEndError
		switch {
		case errors.Is(cause, httprequest.ErrBodyCutShort) || errors.Is(cause, io.ErrUnexpectedEOF):
			return exitPartial
		case errors.As(cause, &cut):
			return exitTLS // the TCP connection was made; the server ended it in the handshake: curl's 35
		}
		return exitConnect
	case httprequest.ResultCantResolve:
		return exitResolve
	case httprequest.ResultConnectionError:
		if errors.Is(cause, httpclient.ErrPeerClosed) {
			return exitNoResponse
		}
		return exitConnection
	case httprequest.ResultTLSHandshakeError:
		if isVerifyError(cause) {
			return exitPeerVerify
		}
		return exitTLS
	case httprequest.ResultNoResponse:
		return exitNoResponse
	case httprequest.ResultBodySizeLimitExceeded:
		return exitBodySize
	case httprequest.ResultBodyDecompressFailed:
		return exitDecode
	case httprequest.ResultDownloadFileCantOpen, httprequest.ResultDownloadFileWriteError:
		return exitWrite
	case httprequest.ResultRedirectLimitReached:
		return exitRedirects
	case httprequest.ResultTimeout:
		return exitTimeout
	}
	return exitFailed // RESULT_REQUEST_FAILED, or a value outside the enum
}

// isVerifyError reports whether a handshake failed on the server's
// certificate: the client wraps its verification failures in a
// *tls.CertificateVerificationError around an x509 error (httpclient's
// verifyGodot); the x509 errors are looked for on their own too.
func isVerifyError(err error) bool {
	var (
		cve       *tls.CertificateVerificationError
		authority x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
	)
	return errors.As(err, &cve) || errors.As(err, &authority) || errors.As(err, &hostname) || errors.As(err, &invalid)
}

// proxyExit is code, or curl's number for a proxy's failure where Godot's
// node reports the same result as for the target's: 5
// (CURLE_COULDNT_RESOLVE_PROXY) when code is a resolve failure (6) for the
// name of the proxy the flags or the environment set (the lookup error names
// the host that failed); 56 (CURLE_RECV_ERROR, curl's "CONNECT tunnel
// failed" and "Proxy CONNECT aborted") when the HTTPS proxy refused the
// CONNECT or ended the exchange before a reply — RESULT_CANT_CONNECT, or
// RESULT_CONNECTION_ERROR for a malformed reply.
func proxyExit(code int, cause error, cfg *config) int {
	var (
		dnsErr    *net.DNSError
		refused   *httpclient.ProxyError
		tunnelErr *httpclient.TunnelError
	)
	if code == exitConnect || code == exitConnection || code == exitNoResponse {
		if errors.As(cause, &refused) || errors.As(cause, &tunnelErr) {
			return exitConnection
		}
		return code
	}
	if code != exitResolve || !errors.As(cause, &dnsErr) {
		return code
	}
	for _, name := range proxyNames(cfg) {
		if strings.EqualFold(strings.TrimSuffix(dnsErr.Name, "."), name) {
			return exitProxyName
		}
	}
	return code
}

// proxyNames are the host names of the proxies a request may go through:
// -x's, else (unless -x "") the environment's HTTP and HTTPS proxies.
func proxyNames(cfg *config) []string {
	if cfg.proxyHost != "" {
		return []string{strings.Trim(cfg.proxyHost, "[]")}
	}
	if cfg.net.noEnvProxy {
		return nil
	}
	pc := httpclient.ProxyConfigFromEnvironment()
	var names []string
	for _, v := range []string{pc.HTTPProxy, pc.HTTPSProxy} {
		if v == "" {
			continue
		}
		if !strings.Contains(v, "://") {
			v = "http://" + v // a bare host:port, as ProxyForURL reads it
		}
		if u, err := url.Parse(v); err == nil && u.Hostname() != "" {
			names = append(names, u.Hostname())
		}
	}
	return names
}
