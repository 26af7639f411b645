//go:build unix

package main

// Cases of the generated cookie differential (cookiegen_test.go) run alone:
// curl 7.88's behaviour is the expectation (Godot has no cookies, §2.1.4;
// the jar is a §7.2 opt-in, and doc.go promises curl's behaviour except the
// differences it lists) and, when curl is installed, each case first checks
// that curl does behave so.

import (
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
)

// cgProbe runs c (127.0.0.1, hop 0 at /a, hop 1 at /b) through curl when
// installed and gdfetch, and calls check on each result.
func cgProbe(t *testing.T, c *cgCase, check func(t *testing.T, who string, r *cgResult)) {
	clearProxyEnv(t)
	s := cgServe(t)
	if _, ok := curlExit(t, t.TempDir(), "--version"); ok {
		cu := cgRun(t, s, c, true)
		t.Run("curl", func(t *testing.T) { check(t, "curl", cu) })
	}
	gd := cgRun(t, s, c, false)
	check(t, "gdfetch", gd)
}

// cgPairsAt is the sorted Cookie pairs request k received.
func cgPairsAt(r *cgResult, k int) []string {
	if k >= len(r.Reqs) {
		return []string{"(no request)"}
	}
	p := cgPairs(r.Reqs[k].Cookies)
	slices.Sort(p)
	return p
}

func cgTwoHops(set ...string) *cgCase {
	return &cgCase{Jar: true, MaxRedirs: 8, Hops: []cgHop{
		{Host: "127.0.0.1", Path: "/a", Code: 302, SetCookies: set, LocPath: true},
		{Host: "127.0.0.1", Path: "/b", Code: 200},
	}}
}

// TestCookieSetLimitCountsKept: curl's limit of 50 cookies a response
// (lib/cookie.h MAX_SET_COOKIE_AMOUNT, counted as cookies are added to the
// jar) counts the cookies kept. 52 Set-Cookie lines of which 7 name another
// domain (refused by both jars): curl keeps all 45 others, m50 and m51
// included. gdfetch's curlTakes counted the first 50 cookies parsed, before
// the jar refused any, and dropped m50 and m51.
func TestCookieSetLimitCountsKept(t *testing.T) {
	var set []string
	for j := range 52 {
		line := "m" + strconv.Itoa(j) + "=1"
		if j%7 == 3 {
			line += "; Domain=elsewhere.example"
		}
		set = append(set, line)
	}
	c := cgTwoHops(set...)
	cgProbe(t, c, func(t *testing.T, who string, r *cgResult) {
		got := cgPairsAt(r, 1)
		assert.Len(t, got, 45, "%s: %v", who, got)
		assert.Contains(t, got, "m50=1", who)
		assert.Contains(t, got, "m51=1", who)
		assert.Contains(t, r.Raw, "\tm51\t1\n", "%s: -c", who)
	})
}
