package kagen

import (
	"fmt"
	"math/rand/v2"
	"strconv"
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
		if a.After == Keep && a.Reuse && r.IntN(5) == 0 {
			a.After, a.Reuse = ResetLater, false
		}
		if !a.DropIfReused && r.IntN(4) == 0 {
			a.DropIfReused = true
		}
		if a.DropIfReused {
			a.Drop = Drop(r.IntN(4))
			if a.Drop.Partial() {
				a.PartialAt = 1 + r.IntN(len(a.Interim)+len(a.Head)-1)
			}
		}
	}
	if o.Redirects && r.IntN(3) == 0 {
		s.Redirect = &Redirect{Code: []int{301, 302}[r.IntN(2)], Other: r.IntN(2) == 0, Kind: redirectKinds[r.IntN(len(redirectKinds))]}
	}
}
