package main

import (
	"io"
	"os"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/gdhttp/gdhttp/httprequest"
)

// isTerminal reports whether w is a terminal (a *os.File on a tty).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// redrawEvery is the bar's refresh period: the values it shows (bytes,
// rate, times) are at most this old, give or take one period, also while
// nothing arrives (a stall).
const redrawEvery = 100 * time.Millisecond

// rateSamples is how many redraws the rate is averaged over: about a
// second at redrawEvery.
const rateSamples = 10

// barWidth is the width of the bar itself, between its two '|'; a narrow
// terminal shrinks it down to minBarWidth, then drops it.
const (
	barWidth    = 24
	minBarWidth = 6
)

// defaultColumns is the width assumed when the bar's writer is not a
// terminal whose size can be read.
const defaultColumns = 80

// progress draws a transfer's progress bar on a terminal: the body's wire
// bytes (after de-chunking, before decompression) against get_body_size()
// when it is known (with rate and ETA), a byte count and rate when it is
// not, and the decoded bytes when they differ (a compressed body). It is fed
// by the node's OnProgress callback (and OnUploadProgress: the request body
// going out, -F and -T). A nil *progress draws nothing.
//
// The callbacks only record the values, and redraw when the last frame is
// redrawEvery old; a ticker, running while a bar is shown, redraws the
// latest values on idle frames (and through -C -'s blocking Do), so the
// bar never shows stale numbers for long. The frame is built in a buffer
// kept from one redraw to the next: feeding the bar does not allocate.
//
// A frame is never wider than the terminal less one column, its width read
// at each redraw (a frame that wraps cannot be erased with "\r" and one
// line's erase: its rows would stay on screen, or walk down it): a narrow
// terminal gets a shorter bar, then fewer parts (layouts), or no frame.
//
// Under TERM=dumb the bar writes no escape sequence: a frame is padded with
// spaces over the previous one, and the bar is erased with spaces.
type progress struct {
	w    io.Writer
	fd   int  // the terminal w is, for its width; −1: not one
	dumb bool // TERM=dumb: no escape sequences
	n    *httprequest.HTTPRequest

	mu      sync.Mutex
	active  bool      // a bar is running (start … clear)
	up      bool      // the bar shows the request body going out (-F, -T)
	total   int64     // the bar's size; −1: unknown (chunked, until close)
	cur     int64     // bytes so far
	decoded int64     // decoded body bytes (shown when they differ from cur)
	origin  time.Time // the bar's start, for the elapsed time and the first rate
	drawn   time.Time // the last redraw
	shown   bool      // a frame is on the terminal's line
	width   int       // its width in columns
	samples [rateSamples]rateSample
	next    int // the ring's next slot, the oldest sample once it is full
	buf     []byte

	stop chan struct{} // closes the ticker's goroutine
	done chan struct{} // closed when it has returned
}

// rateSample is the byte count at one redraw.
type rateSample struct {
	at time.Time
	n  int64
}

// newProgress returns a progress bar writing to w, or nil when show is false
// (-s, or w is not a terminal).
func newProgress(w io.Writer, n *httprequest.HTTPRequest, show bool) *progress {
	if !show {
		return nil
	}
	p := &progress{w: w, fd: -1, dumb: os.Getenv("TERM") == "dumb", n: n, origin: time.Now(), buf: make([]byte, 0, 256)}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.fd = int(f.Fd())
	}
	return p
}

// update is the OnProgress callback.
func (p *progress) update(wireBytes, decodedBytes int64) {
	if p == nil {
		return
	}
	total := p.n.BodySize() // −1: chunked, until close; changes on a redirect
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.active || p.up || total != p.total {
		p.start(total, false)
	}
	p.set(wireBytes, decodedBytes)
}

// upload is the OnUploadProgress callback: the request body's bytes sent
// against its size (−1: chunked), before the response's bar.
func (p *progress) upload(sent, total int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.active || !p.up || total != p.total {
		p.start(total, true)
	}
	p.set(sent, sent)
}

// set records the latest values and redraws when the last frame is old
// enough, or when the transfer is complete. p.mu is held.
func (p *progress) set(n, decoded int64) {
	p.cur, p.decoded = n, decoded
	now := time.Now()
	if !p.shown || now.Sub(p.drawn) >= redrawEvery || n == p.total {
		p.redraw(now)
	}
}

// start begins a new bar for total bytes (a redirect's response, the
// response after the upload), and the ticker when none runs. p.mu is held.
func (p *progress) start(total int64, up bool) {
	now := time.Now()
	if p.active {
		p.origin = now // the first bar counts from the request's start
	}
	p.active, p.up, p.total, p.cur, p.decoded = true, up, total, 0, 0
	p.samples[0], p.next = rateSample{p.origin, 0}, 1
	for i := 1; i < rateSamples; i++ {
		p.samples[i] = rateSample{}
	}
	if p.stop == nil {
		p.stop, p.done = make(chan struct{}), make(chan struct{})
		go p.tick(p.stop, p.done)
	}
}

// tick redraws the latest values every redrawEvery while the bar runs,
// whether or not new bytes came.
func (p *progress) tick(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(redrawEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			p.mu.Lock()
			if p.active && now.Sub(p.drawn) >= redrawEvery*9/10 {
				p.redraw(now)
			}
			p.mu.Unlock()
		}
	}
}

// redraw writes the current frame over the previous one. p.mu is held.
func (p *progress) redraw(now time.Time) {
	p.drawn = now
	// The rate over the last second or so: from the oldest sample kept.
	oldest := p.samples[0]
	if s := p.samples[p.next%rateSamples]; !s.at.IsZero() {
		oldest = s
	}
	p.samples[p.next%rateSamples] = rateSample{now, p.cur}
	p.next++
	rate := -1.0 // unknown: too early to tell
	if d := now.Sub(oldest.at); d >= redrawEvery {
		rate = float64(p.cur-oldest.n) / d.Seconds()
	}
	maxWidth := p.columns() - 1
	b := append(p.buf[:0], '\r')
	b, ok := p.appendFitted(b, now, rate, maxWidth)
	if !ok { // not even the counts fit: no frame
		p.buf = b[:0]
		p.clear()
		return
	}
	w := utf8.RuneCount(b) - 1
	if p.dumb { // what a longer frame left after this one
		b = appendSpaces(b, min(p.width, maxWidth)-w)
	} else {
		b = append(b, "\x1b[K"...)
	}
	p.buf = b
	_, _ = p.w.Write(b)
	p.shown, p.width = true, w
}

// appendSpaces appends n spaces (none when n ≤ 0).
func appendSpaces(b []byte, n int) []byte {
	for range n {
		b = append(b, ' ')
	}
	return b
}

// columns is the terminal's width now (it may have changed since the last
// frame), or defaultColumns.
func (p *progress) columns() int {
	if p.fd >= 0 {
		if cols, _, err := term.GetSize(p.fd); err == nil && cols > 0 {
			return cols
		}
	}
	return defaultColumns
}

// frameParts are the parts of a frame that a narrow terminal can drop.
type frameParts struct {
	bar, times, rate, desc, pct bool
}

// layouts are the frames tried, widest first, until one fits.
var layouts = [...]frameParts{
	{bar: true, times: true, rate: true, desc: true, pct: true},
	{bar: true, times: true, rate: true, pct: true},
	{bar: true, rate: true, pct: true},
	{rate: true, pct: true},
	{pct: true},
	{},
}

// appendFitted appends the widest frame of at most maxWidth columns (the
// bar shrunk, then parts dropped); false when none fits.
func (p *progress) appendFitted(b []byte, now time.Time, rate float64, maxWidth int) ([]byte, bool) {
	start := len(b)
	for _, l := range layouts {
		b = p.appendFrame(b[:start], now, rate, l, barWidth)
		w := utf8.RuneCount(b[start:])
		if w > maxWidth && l.bar && p.total > 0 && w-maxWidth <= barWidth-minBarWidth {
			b = p.appendFrame(b[:start], now, rate, l, barWidth-(w-maxWidth))
			w = maxWidth
		}
		if w <= maxWidth {
			return b, true
		}
	}
	return b[:start], false
}

// appendFrame appends the bar's text: " 45% |█████     | (176/391 KiB,
// 1.2 MiB/s) [1s:2s]", or without a known size "(176 KiB, 1.2 MiB/s) [1s]",
// then the description ("↑ upload", "→ 320 KiB decoded"); only the parts
// of l, the bar width bars wide.
func (p *progress) appendFrame(b []byte, now time.Time, rate float64, l frameParts, bars int) []byte {
	if p.total > 0 && l.pct {
		pct := min(p.cur*100/p.total, 100)
		if pct < 100 {
			b = append(b, ' ')
		}
		if pct < 10 {
			b = append(b, ' ')
		}
		b = strconv.AppendInt(b, pct, 10)
		b = append(b, '%', ' ')
		if l.bar {
			b = append(b, '|')
			fill := int(min(p.cur*int64(bars)/p.total, int64(bars)))
			for i := range bars {
				if i < fill {
					b = append(b, "█"...)
				} else {
					b = append(b, ' ')
				}
			}
			b = append(b, "| "...)
		}
	}
	b = append(b, '(')
	cur, curUnit := scaleBytes(p.cur)
	if p.total >= 0 {
		total, totalUnit := scaleBytes(p.total)
		b = appendScaled(b, cur, curUnit)
		if curUnit != totalUnit {
			b = append(b, ' ')
			b = append(b, curUnit...)
		}
		b = append(b, '/')
		b = appendScaled(b, total, totalUnit)
		b = append(b, ' ')
		b = append(b, totalUnit...)
	} else {
		b = appendScaled(b, cur, curUnit)
		b = append(b, ' ')
		b = append(b, curUnit...)
	}
	if rate >= 0 && l.rate {
		r, unit := scaleBytes(int64(rate))
		b = append(b, ", "...)
		b = appendScaled(b, r, unit)
		b = append(b, ' ')
		b = append(b, unit...)
		b = append(b, "/s"...)
	}
	b = append(b, ')')
	if l.times {
		b = p.appendTimes(b, now, rate)
	}
	if l.desc {
		b = p.appendDesc(b)
	}
	return b
}

// appendTimes appends " [elapsed:ETA]", or " [elapsed]" without a size.
func (p *progress) appendTimes(b []byte, now time.Time, rate float64) []byte {
	b = append(b, " ["...)
	b = appendSeconds(b, now.Sub(p.origin))
	if p.total > 0 {
		b = append(b, ':')
		switch {
		case p.cur >= p.total:
			b = append(b, "0s"...)
		case rate > 0 && float64(p.total-p.cur)/rate < 1e6:
			b = appendSeconds(b, time.Duration(float64(p.total-p.cur)/rate*float64(time.Second)))
		default: // no bytes lately, or more than 11 days to go
			b = append(b, '?')
		}
	}
	return append(b, ']')
}

// appendDesc appends what the counts do not say: " ↑ upload", or the
// decoded bytes of a compressed body.
func (p *progress) appendDesc(b []byte) []byte {
	switch {
	case p.up:
		b = append(b, " ↑ upload"...)
	case p.decoded != p.cur:
		d, unit := scaleBytes(p.decoded)
		b = append(b, " → "...)
		b = appendScaled(b, d, unit)
		b = append(b, ' ')
		b = append(b, unit...)
		b = append(b, " decoded"...)
	}
	return b
}

// finish removes the bar from the terminal and stops its ticker.
func (p *progress) finish() {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.clear()
	p.active = false
	stop, done := p.stop, p.done
	p.stop, p.done = nil, nil
	p.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}

// clear erases the bar's line. p.mu is held.
func (p *progress) clear() {
	if !p.shown {
		return
	}
	if p.dumb {
		b := append(p.buf[:0], '\r')
		b = append(appendSpaces(b, p.width), '\r')
		p.buf = b
		_, _ = p.w.Write(b)
	} else {
		_, _ = io.WriteString(p.w, "\r\x1b[2K")
	}
	p.shown, p.width = false, 0
}

// iecUnits are the units of scaleBytes, by powers of 1024.
var iecUnits = [...]string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}

// scaleBytes returns n in the largest IEC unit that keeps it at 1 or more.
func scaleBytes(n int64) (float64, string) {
	f, i := float64(n), 0
	for f >= 1024 && i < len(iecUnits)-1 {
		f /= 1024
		i++
	}
	return f, iecUnits[i]
}

// appendScaled appends a count scaled by scaleBytes as the bar shows it:
// whole bytes ("512"), one decimal below 10 in a larger unit ("2.0",
// "9.8"), none from 10 ("391").
func appendScaled(b []byte, f float64, unit string) []byte {
	switch {
	case unit == iecUnits[0]:
		return strconv.AppendInt(b, int64(f), 10)
	case f < 10:
		return strconv.AppendFloat(b, f, 'f', 1, 64)
	}
	return strconv.AppendFloat(b, f, 'f', 0, 64)
}

// appendSeconds appends d rounded to the second: "0s", "42s", "3m5s",
// "1h2m3s".
func appendSeconds(b []byte, d time.Duration) []byte {
	s := int64(d.Round(time.Second) / time.Second)
	if h := s / 3600; h > 0 {
		b = strconv.AppendInt(b, h, 10)
		b = append(b, 'h')
	}
	if m := s % 3600 / 60; s >= 60 {
		b = strconv.AppendInt(b, m, 10)
		b = append(b, 'm')
	}
	b = strconv.AppendInt(b, s%60, 10)
	return append(b, 's')
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
