package kagen

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// Redirect is a 301/302 a step's request is answered with first; its hop's
// request (HopPath) is answered with the step's Answer.
type Redirect struct {
	Code  int    // 301 or 302
	Other bool   // Location names the other origin (Config.Other), else a path
	Kind  string // the redirect's own framing: none, cl0, cl, chunked, until-close, ambiguous, no-framing
}

func (r Redirect) String() string {
	where := "same-origin"
	if r.Other {
		where = "other-origin"
	}
	return fmt.Sprintf("redirect %d %s %s", r.Code, where, r.Kind)
}

// HopPath is the target of step i's redirect hop.
func HopPath(i int) string { return Path(i) + "h" }

// answer is the redirect's answer on the wire: its body, never delivered
// (the hop's is), says EvilMarker. It always retires its connection
// (SetKeepAlive: redirect hops use new connections).
func (r Redirect) answer(i, other int) Answer {
	loc := HopPath(i)
	if r.Other {
		loc = "http://127.0.0.1:" + strconv.Itoa(other) + loc
	}
	text := map[int]string{301: "301 Moved Permanently", 302: "302 Found"}[r.Code]
	head := "HTTP/1.1 " + text + "\r\nLocation: " + loc + "\r\n"
	body := []byte(EvilMarker + " redirect body of " + Marker(i))
	a := Answer{Kind: "redirect-" + r.Kind, Clean: true}
	cl := func(n int) string { return "Content-Length: " + strconv.Itoa(n) + "\r\n" }
	switch r.Kind {
	case "none":
		a.Head = head + "\r\n"
	case "cl0":
		a.Head = head + cl(0) + "\r\n"
	case "cl":
		a.Head = head + cl(len(body)) + "\r\n"
		a.Body = body
	case "chunked":
		a.Head = head + "Transfer-Encoding: chunked\r\n\r\n"
		a.Body = []byte(strconv.FormatInt(int64(len(body)), 16) + "\r\n" + string(body) + "\r\n0\r\n\r\n")
	case "until-close":
		a.Head = head + "Connection: close\r\n\r\n"
		a.Body = body
		a.After = Close
	case "ambiguous":
		a.Head = head + cl(len(body)+9) + "Transfer-Encoding: chunked\r\n\r\n"
		a.Body = []byte(strconv.FormatInt(int64(len(body)), 16) + "\r\n" + string(body) + "\r\n0\r\n\r\n")
		a.Ambiguous = true
	case "no-framing":
		a.Head = head + "\r\n"
		a.Body = body
	}
	return a
}

var redirectKinds = []string{"none", "cl0", "cl", "chunked", "until-close", "ambiguous", "no-framing"}

// part2 draws the part-2 shapes of one step from r (a stream of its own,
// so that the part-1 sequences stay the same).
func part2(r *rand.Rand, s *Step, o Options) {
	a := &s.Answer
	if !a.Reuse && r.IntN(2) == 0 {
		// Half the answers that retire the connection become plain
		// framed ones, so that connections live long enough for the
		// endings below to meet reused requests.
		*a = framed(r, s.Index, s.Method, o)
	}
	if o.TLS {
		sizes := []int{1 + r.IntN(40), 41 + r.IntN(2000), 16384}
		for k := 1 + r.IntN(3); k > 0; k-- {
			a.Records = append(a.Records, sizes[r.IntN(len(sizes))])
		}
		a.Straddle = len(a.Extra) > 0 && !a.Late && r.IntN(2) == 0
		a.Notify = r.IntN(2) == 0
		if a.After == Keep && a.Reuse {
			switch r.IntN(8) {
			case 0:
				a.After, a.Reuse = NotifyNow, false
			case 1:
				a.After, a.Reuse = NotifyLater, false
			case 2:
				a.After, a.Reuse = CloseLater, false // a bare FIN (or close_notify and FIN) while idle
			}
		}
	}
	if o.Resets {
		// An RST drops what the server has not sent yet, and a client
		// that sees it pending fails before reading what is queued
		// (§1.6): only an answer the client takes in one read, long
		// before the RST (ResetDelay).
		if a.After == Keep && a.Reuse && len(a.Body) <= 512 && r.IntN(3) == 0 {
			a.After, a.Reuse = ResetLater, false
		}
		if !a.DropIfReused && r.IntN(4) == 0 {
			a.DropIfReused = true
		}
		if a.DropIfReused {
			a.Drop = Drop(r.IntN(4))
			if a.Drop.Partial() {
				// Within the first head (a whole 1xx is an answer, §1.8.7).
				first := len(a.Head)
				if a.Interim != "" {
					first = len(a.Interim)
				}
				a.PartialAt = 1 + r.IntN(first-1)
			}
		}
	}
	if o.Redirects && r.IntN(3) == 0 {
		s.Redirect = &Redirect{Code: []int{301, 302}[r.IntN(2)], Other: r.IntN(2) == 0, Kind: redirectKinds[r.IntN(len(redirectKinds))]}
	}
}

// NeedsGap2 is NeedsGap with the part-2 endings that come late.
func (a Answer) NeedsGap2() bool {
	return a.NeedsGap() || a.After == ResetLater || a.After == NotifyLater
}

// framed is a well-formed answer that keeps the connection: a length or
// chunks, HTTP/1.1.
func framed(r *rand.Rand, i int, method string, o Options) Answer {
	p := payload(r, i, o)
	a := Answer{Clean: true, Reuse: true}
	if r.IntN(2) == 0 {
		a.Kind = "cl"
		a.Head = "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(p)) + "\r\n\r\n"
		if method != "HEAD" {
			a.Body, a.Payload = p, p
		}
	} else {
		a.Kind = "chunked"
		if method == "HEAD" {
			a.Kind = "head-chunked"
		}
		a.Head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		if method != "HEAD" {
			a.Body, a.Payload = chunkedBody(r, p, false, r.IntN(2) == 0), p
		}
	}
	w := len(a.Head) + len(a.Body)
	for k := r.IntN(4); k > 0; k-- {
		a.Splits = append(a.Splits, 1+r.IntN(w-1))
	}
	a.Splits = sortUnique(a.Splits)
	a.DropIfReused = r.IntN(7) == 0
	return a
}

// ResetDelay is how long after an answer a ResetLater comes (less than
// Gap). The client must have read the answer by then (a reset pending
// behind it fails the client first, §1.6): 15 ms was outlasted by a
// client's frame on a machine loaded eight-fold (TestKagen2Client seed
// 3822, resets/278 and tls/78: a fresh client met the reset first).
const ResetDelay = 30 * time.Millisecond
