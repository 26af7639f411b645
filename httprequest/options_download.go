package httprequest

// keep_partial_download and append_to_download_file: Godot's newest download
// properties, added to HTTPRequest by godotengine/godot PR #118226 ("Add
// resumable download with retry for export templates", merged 2026) on top of
// PR #117448 ("Automatically remove incomplete file downloads", merged 2026),
// after the 4.7 copy of http_request.cpp this port follows. Both are
// off by default. Their meaning is Godot's class reference:
//
//   - keep_partial_download: "If true, the partially downloaded file set via
//     download_file will not be deleted when the request fails or is
//     canceled."
//   - append_to_download_file: "If true and the server responds with HTTP
//     status code 206 Partial Content, the response body will be appended to
//     the existing download_file instead of overwriting it."
//
// Godot's node sends no Range header itself: the game adds "Range:
// bytes=<size>-" to its custom headers, and the node appends whatever a 206
// carries without looking at Content-Range (as here). Any other status — a
// 200 from a server that ignored the Range, a 416 with an error page —
// overwrites the file as download_file always does (§2.9.2).
//
// How they combine with the port's download modes (download.go): with
// keep_partial_download the file is written in place in both modes, so the
// partial file is download_file itself after any failure, cancel or timeout
// (and after the process dies); without it the default atomic mode still
// leaves the old file untouched by a failure (§7 D3) — a failed append is
// truncated back to the old length — and the in-place mode leaves Godot
// 4.7's partial file (§2.9.3). COMPAT.md Q17 lists what differs from Godot.
//
// DoResumable (resume.go) drives both properties to resume a download by
// itself, with If-Range and the Content-Range checks Godot leaves to the game.

// SetKeepPartialDownload sets keep_partial_download (default false): when a
// request fails, times out or is canceled after its body started, the partial
// download_file stays where it is, so a later request can resume it with a
// Range header. The file is then written in place (see above). godot.ErrBusy while
// a request is active and the client's status is not DISCONNECTED, like the other download setters;
// read when the response's body starts.
//
// Godot: HTTPRequest.set_keep_partial_download() (PR #118226)
func (n *HTTPRequest) SetKeepPartialDownload(on bool) error {
	if err := n.refuseWhileConnected("set_keep_partial_download"); err != nil {
		return err
	}
	n.keepPartial.Store(on)
	return nil
}

// IsKeepingPartialDownload returns keep_partial_download.
//
// Godot: HTTPRequest.is_keeping_partial_download()
func (n *HTTPRequest) IsKeepingPartialDownload() bool { return n.keepPartial.Load() }

// SetAppendToDownloadFile sets append_to_download_file (default false): a
// response with status 206 Partial Content appends its body to the existing
// download_file (creating it when missing: the port's choice, the class
// reference does not say) instead of overwriting it; every
// other status overwrites as usual. The node does not check the response's
// Content-Range against the file (Godot does not either): send a Range that
// starts at the file's size, or use DoResumable. godot.ErrBusy while a request is active and the client's
// status is not DISCONNECTED; read when the response's body starts.
//
// Godot: HTTPRequest.set_append_to_download_file() (PR #118226)
func (n *HTTPRequest) SetAppendToDownloadFile(on bool) error {
	if err := n.refuseWhileConnected("set_append_to_download_file"); err != nil {
		return err
	}
	n.appendFile.Store(on)
	return nil
}

// IsAppendingToDownloadFile returns append_to_download_file.
//
// Godot: HTTPRequest.is_appending_to_download_file()
func (n *HTTPRequest) IsAppendingToDownloadFile() bool { return n.appendFile.Load() }
