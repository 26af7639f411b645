package httprequest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/internal/resumegen"
)

// A seeded generated harness for the download paths (§7 D3, Q7, Q17, the
// doc comment of resume.go): sequences of calls on one download_file —
// DoResumable repeated until success or a few tries, plain download_file
// through the three drivers (§7.3) atomically, in place and with
// keep_partial_download (+ append_to_download_file) — against
// internal/resumegen's server, whose resource changes (new validators, or a
// lying server: the same validator over other bytes) and whose every
// response is drawn from the seed (Range honoured, ignored or capped, 416
// with or without Content-Range, wrong Content-Range, If-Range ignored,
// weak ETags, gzip on a 206, chunked and read-until-close 206s, redirects,
// cuts, resets, stalls that the node's timeout ends).
//
// After each call (resumegen.Server.Check): the file is unchanged or
// consistent with one version (never two spliced, never foreign bytes; a
// lying server's versions under one validator count as one), a success
// leaves the version the final response served whole (or short only where
// the client cannot know: a read-until-close 200 cut by a FIN, a capped
// "bytes S-E/*" 206 with no known length), a failed atomic download leaves
// the file as it was, the state file vouches only for what the file holds
// (its validator's prefix, no more than its length) and is gone after a
// success, a failure carries a result and a wrapped cause, and no temporary
// file is left. goleak (TestMain) and an fd count check the end.
//
// GDHTTP_RESUMEGEN_N (sequences, default 30) and GDHTTP_RESUMEGEN_SEED
// (default 1) pick the run, GDHTTP_RESUMEGEN_ONLY=i its sequence i alone;
// a failure logs the seed and the sequence's
// calls with every response the server gave.
func TestResumegen(t *testing.T) {
	n := drive.EnvInt("GDHTTP_RESUMEGEN_N", 30)
	seed := uint64(drive.EnvInt("GDHTTP_RESUMEGEN_SEED", 1))
	fds := drive.FDs()
	stats := map[string]int{}
	only := drive.EnvInt("GDHTTP_RESUMEGEN_ONLY", -1)
	for i := range n {
		if only >= 0 && i != only {
			continue
		}
		s := seed*1_000_003 + uint64(i)
		t.Run(strconv.Itoa(i), func(t *testing.T) { resumegenSequence(t, s, stats) })
	}
	t.Logf("seed %d, %d sequences:%s", seed, n, drive.Counts(stats))
	drive.NoFDLeft(t, fds, 2)
}

// resumegenTimeout ends a stalled response (the node's timeout).
const resumegenTimeout = 250 * time.Millisecond

func resumegenSequence(t *testing.T, seed uint64, stats map[string]int) {
	dir := t.TempDir()
	file := filepath.Join(dir, "asset.bin")
	srv, err := resumegen.New(seed, file, resumegen.Options{})
	require.NoError(t, err)
	defer srv.Close()
	rng := rand.New(rand.NewPCG(seed, 7))
	var history []string
	count := func(c resumegen.Call) {
		kind, _, _ := strings.Cut(c.What, ":")
		kind, _, _ = strings.Cut(kind, " try")
		res, _, _ := strings.Cut(strings.TrimPrefix(c.What[len(kind):], ":"), " err")
		res = strings.TrimSpace(res)
		if i := strings.Index(res, "offset"); i > 0 {
			res = res[:i]
		}
		stats[kind+": "+res]++
		for _, s := range c.Served {
			for _, d := range strings.Split(s.Desc, ",") {
				d, _, _ = strings.Cut(d, "@")
				stats["served "+strconv.Itoa(s.Status)+" "+d]++
			}
		}
	}
	fail := func(c resumegen.Call, bad []string) {
		t.Helper()
		history = append(history, c.What)
		for _, s := range c.Served {
			history = append(history, "    "+s.String())
		}
		t.Errorf("seed %d: %s\n  broke: %s\n  history:\n  %s", seed, c.What, strings.Join(bad, "; "), strings.Join(history, "\n  "))
	}
	var tainted []byte // a state file a plain download made stale
	calls := 3 + rng.IntN(6)
	for range calls {
		before := resumegen.Take(file)
		if rng.IntN(100) < 55 {
			// DoResumable until success, at most 4 tries.
			ctxTimeout := rng.IntN(5) == 0
			for try := range 4 {
				before := resumegen.Take(file)
				mark := srv.Mark()
				c := resumableCall(t, srv, file, ctxTimeout)
				c.Before, c.After, c.Served = before, resumegen.Take(file), srv.Since(mark)
				c.What = fmt.Sprintf("DoResumable try %d (ctx timeout %v): %s", try, ctxTimeout, c.What)
				bad := srv.Check(withTaint(c, tainted))
				if len(bad) > 0 {
					fail(c, bad)
					return
				}
				count(c)
				history = append(history, c.What)
				for _, s := range c.Served {
					history = append(history, "    "+s.String())
				}
				if !c.After.HasState || string(c.After.State) != string(tainted) {
					tainted = nil
				}
				if c.Success {
					break
				}
			}
			continue
		}
		d := drive.Drivers[rng.IntN(3)]
		mode := rng.IntN(3) // atomic, in place, keep_partial (+ append)
		mark := srv.Mark()
		c := plainCall(t, srv, file, d, mode, rng.IntN(2) == 0)
		c.Before, c.After, c.Served = before, resumegen.Take(file), srv.Since(mark)
		c.What = fmt.Sprintf("plain %s mode %d: %s", d.Name, mode, c.What)
		bad := srv.Check(c)
		if len(bad) > 0 {
			fail(c, bad)
			return
		}
		count(c)
		history = append(history, c.What)
		for _, s := range c.Served {
			history = append(history, "    "+s.String())
		}
		if c.After.HasState && (c.After.HasFile != before.HasFile || string(c.After.File) != string(before.File)) {
			tainted = c.After.State // the plain download does not know the state file
		}
	}
}

// withTaint drops the state file from the check when it is one a plain
// download made stale (not DoResumable's doing).
func withTaint(c resumegen.Call, tainted []byte) resumegen.Call {
	if tainted != nil && c.After.HasState && string(c.After.State) == string(tainted) {
		c.After.HasState = false
	}
	return c
}

// explained reports whether err is a *ResultError with a result and a
// cause.
func explained(err error, r Result) bool {
	var re *ResultError
	return errors.As(err, &re) && re.Result != ResultSuccess && re.Result == r && re.Cause != nil
}

func resumableCall(t *testing.T, srv *resumegen.Server, file string, ctxTimeout bool) resumegen.Call {
	t.Helper()
	n := New()
	defer n.Close()
	require.NoError(t, n.SetDownloadFile(file))
	wait := maxWait
	if ctxTimeout {
		wait = resumegenTimeout
	} else {
		require.NoError(t, n.SetTimeout(resumegenTimeout))
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	r, err := n.DoResumable(ctx, srv.URL(), nil)
	c := resumegen.Call{Kind: resumegen.Resumable, Success: err == nil && r.Result == ResultSuccess}
	c.Explained = explained(err, r.Result) || (err != nil && ctxTimeout && errors.Is(err, context.DeadlineExceeded))
	c.What = fmt.Sprintf("%v code %d outcome %v offset %d err %v", r.Result, r.ResponseCode, r.Outcome, r.Offset, err)
	return c
}

func plainCall(t *testing.T, srv *resumegen.Server, file string, d drive.Driver, mode int, appendOn bool) resumegen.Call {
	t.Helper()
	n := New()
	defer n.Close()
	require.NoError(t, n.SetDownloadFile(file))
	require.NoError(t, n.SetTimeout(resumegenTimeout))
	kind := resumegen.Atomic
	switch mode {
	case 1:
		require.NoError(t, n.SetDownloadInPlace(true))
		kind = resumegen.InPlace
	case 2:
		require.NoError(t, n.SetKeepPartialDownload(true))
		require.NoError(t, n.SetAppendToDownloadFile(appendOn))
		kind = resumegen.InPlace
	}
	o := driverCase{d}.run(t, n, srv.URL(), nil, httpclient.MethodGet, nil)
	c := resumegen.Call{Kind: kind, Success: o.C.Result == ResultSuccess && o.Err == nil}
	c.Explained = explained(o.Err, o.C.Result)
	if o.Callbacks != 1 {
		c.Explained = false
	}
	c.What = fmt.Sprintf("%v code %d err %v callbacks %d", o.C.Result, o.C.ResponseCode, o.Err, o.Callbacks)
	return c
}
