package main

import (
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/gdhttp/gdhttp/httprequest"
)

// isTerminal reports whether w is a terminal (a *os.File on a tty).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress draws a transfer's progress bar on a terminal: the body's wire
// bytes (after de-chunking, before decompression) against get_body_size()
// when it is known (with rate and ETA), a byte count and rate when it is
// not, and the decoded bytes when they differ (a compressed body). It is fed
// by the node's OnProgress callback. A nil *progress draws nothing.
type progress struct {
	w     io.Writer
	n     *httprequest.HTTPRequest
	bar   *progressbar.ProgressBar
	total int64
	up    bool // the bar shows the request body going out (-F, -T)
}

// newProgress returns a progress bar writing to w, or nil when show is false
// (-s, or w is not a terminal).
func newProgress(w io.Writer, n *httprequest.HTTPRequest, show bool) *progress {
	if !show {
		return nil
	}
	return &progress{w: w, n: n}
}

// update is the OnProgress callback.
func (p *progress) update(wireBytes, decodedBytes int64) {
	if p == nil {
		return
	}
	total := p.n.BodySize() // −1: chunked, until close; changes on a redirect
	if p.bar == nil || p.up || total != p.total {
		p.start(total, false)
	}
	if decodedBytes != wireBytes {
		p.bar.Describe("→ " + humanBytes(decodedBytes) + " decoded")
	}
	_ = p.bar.Set64(wireBytes)
}

// upload is the OnUploadProgress callback: the request body's bytes sent
// against its size (−1: chunked), before the response's bar.
func (p *progress) upload(sent, total int64) {
	if p == nil {
		return
	}
	if p.bar == nil || !p.up || total != p.total {
		p.start(total, true)
		p.bar.Describe("↑ upload")
	}
	_ = p.bar.Set64(sent)
}

// start replaces the bar with a new one for total bytes.
func (p *progress) start(total int64, up bool) {
	p.clear()
	p.total, p.up = total, up
	p.bar = progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(total > 0),
		progressbar.OptionSetElapsedTime(total <= 0),
		progressbar.OptionSetWidth(24),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionSetSpinnerChangeInterval(0), // no goroutine of its own
		progressbar.OptionShowDescriptionAtLineEnd(),
		progressbar.OptionUseIECUnits(true),
	)
}

// finish removes the bar from the terminal.
func (p *progress) finish() {
	if p != nil {
		p.clear()
	}
}

func (p *progress) clear() {
	if p.bar != nil {
		_ = p.bar.Exit()
		_ = p.bar.Clear()
		// The bar's Clear blanks the bar's own width, not the description
		// printed after it: erase the whole line (the bar is only drawn on
		// a terminal).
		_, _ = io.WriteString(p.w, "\r\x1b[2K")
		p.bar = nil
	}
}

// humanBytes prints a byte count in IEC units: "512 B", "1.5 KiB".
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return itoa(n) + " B"
	}
	f, suffix := float64(n), ""
	for _, s := range []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"} {
		f /= unit
		suffix = s
		if f < unit {
			break
		}
	}
	return ftoa(f) + " " + suffix
}
