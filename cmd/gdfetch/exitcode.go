package main

import (
	"errors"
	"io"

	"github.com/gdhttp/gdhttp/httprequest"
)

// Exit statuses. A request that completed maps its Result to curl's number
// for the same failure where curl has one (doc.go has the table).
const (
	exitOK          = 0
	exitFailed      = 1   // RESULT_REQUEST_FAILED (never produced) and internal failures
	exitUsage       = 2   // a bad flag, argument or URL
	exitResolve     = 6   // CURLE_COULDNT_RESOLVE_HOST
	exitConnect     = 7   // CURLE_COULDNT_CONNECT
	exitPartial     = 18  // CURLE_PARTIAL_FILE
	exitHTTPError   = 22  // CURLE_HTTP_RETURNED_ERROR (--fail)
	exitWrite       = 23  // CURLE_WRITE_ERROR
	exitTimeout     = 28  // CURLE_OPERATION_TIMEDOUT
	exitTLS         = 35  // CURLE_SSL_CONNECT_ERROR
	exitRedirects   = 47  // CURLE_TOO_MANY_REDIRECTS
	exitNoResponse  = 52  // CURLE_GOT_NOTHING
	exitConnection  = 56  // CURLE_RECV_ERROR
	exitDecode      = 61  // CURLE_BAD_CONTENT_ENCODING
	exitBodySize    = 63  // CURLE_FILESIZE_EXCEEDED
	exitInterrupted = 130 // SIGINT: the request was canceled
)

// resultExit is the exit status of a completion's Result; cause refines
// RESULT_CANT_CONNECT: a fixed-length body cut short is Godot's
// RESULT_CANT_CONNECT too (§2.9.5), but for a curl user it is a partial
// transfer (18), not a failed connect (7).
func resultExit(r httprequest.Result, cause error) int {
	switch r {
	case httprequest.ResultSuccess:
		return exitOK
	case httprequest.ResultChunkedBodySizeMismatch:
		return exitPartial
	case httprequest.ResultCantConnect:
		if errors.Is(cause, httprequest.ErrBodyCutShort) || errors.Is(cause, io.ErrUnexpectedEOF) {
			return exitPartial
		}
		return exitConnect
	case httprequest.ResultCantResolve:
		return exitResolve
	case httprequest.ResultConnectionError:
		return exitConnection
	case httprequest.ResultTLSHandshakeError:
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
