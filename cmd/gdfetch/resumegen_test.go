package main

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

	"github.com/gdhttp/gdhttp/httprequest"
	tdrive "github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/internal/resumegen"
)

// The generated download harness (httprequest's TestResumegen) with gdfetch
// in the sequences: "-C - -o FILE" runs (in-process, run) repeated until
// exit 0 or a few tries, plain "-o FILE" runs (atomic, --in-place), and
// DoResumable through the public API, all on the same file, against
// internal/resumegen's server. The same checks after each run
// (resumegen.Server.Check); a failing run must exit non-zero and say why
// on stderr. GDHTTP_RESUMEGEN_N (default 15) and GDHTTP_RESUMEGEN_SEED
// (default 1).
func TestResumegenGdfetch(t *testing.T) {
	n := tdrive.EnvInt("GDHTTP_RESUMEGEN_N", 15)
	seed := uint64(tdrive.EnvInt("GDHTTP_RESUMEGEN_SEED", 1))
	for i := range n {
		s := seed*1_000_033 + uint64(i)
		t.Run(strconv.Itoa(i), func(t *testing.T) { gdfetchSequence(t, s) })
	}
}

// gdfetchTimeout ends a stalled response (-m).
const gdfetchTimeout = 250 * time.Millisecond

func gdfetchSequence(t *testing.T, seed uint64) {
	dir := t.TempDir()
	file := filepath.Join(dir, "asset.bin")
	srv, err := resumegen.New(seed, file, resumegen.Options{})
	require.NoError(t, err)
	defer srv.Close()
	rng := rand.New(rand.NewPCG(seed, 11))
	var history []string
	note := func(c resumegen.Call) {
		history = append(history, c.What)
		for _, s := range c.Served {
			history = append(history, "    "+s.String())
		}
	}
	var tainted []byte
	for range 3 + rng.IntN(6) {
		kind := rng.IntN(10)
		resumable := kind < 7 // gdfetch -C - (5 in 10) or DoResumable (2 in 10)
		for try := range 4 {
			before := resumegen.Take(file)
			mark := srv.Mark()
			var c resumegen.Call
			switch {
			case kind < 5:
				c = gdfetchCall(t, srv, file, []string{"-C", "-"})
				c.Kind = resumegen.Resumable
			case kind < 7:
				c = apiResumable(t, srv, file)
			case kind < 9:
				c = gdfetchCall(t, srv, file, nil)
				c.Kind = resumegen.Atomic
			default:
				c = gdfetchCall(t, srv, file, []string{"--in-place"})
				c.Kind = resumegen.InPlace
			}
			c.Before, c.After, c.Served = before, resumegen.Take(file), srv.Since(mark)
			c.What = fmt.Sprintf("try %d: %s", try, c.What)
			check := c
			if tainted != nil && c.After.HasState && string(c.After.State) == string(tainted) {
				check.After.HasState = false // a plain run made it stale
			}
			if bad := srv.Check(check); len(bad) > 0 {
				note(c)
				t.Errorf("seed %d: %s\n  broke: %s\n  history:\n  %s", seed, c.What, strings.Join(bad, "; "), strings.Join(history, "\n  "))
				return
			}
			note(c)
			if !resumable {
				if c.After.HasState && (c.After.HasFile != before.HasFile || string(c.After.File) != string(before.File)) {
					tainted = c.After.State
				}
				break
			}
			if !c.After.HasState || string(c.After.State) != string(tainted) {
				tainted = nil
			}
			if c.Success {
				break
			}
		}
	}
}

// gdfetchCall runs gdfetch -o file with extra flags.
func gdfetchCall(t *testing.T, srv *resumegen.Server, file string, extra []string) resumegen.Call {
	t.Helper()
	args := append([]string{"-o", file, "-m", strconv.FormatFloat(gdfetchTimeout.Seconds(), 'f', -1, 64)}, extra...)
	args = append(args, srv.URL())
	code, _, stderr := gdfetch(t, args...)
	c := resumegen.Call{Success: code == exitOK}
	c.Explained = code != exitOK && strings.TrimSpace(stderr) != ""
	c.What = fmt.Sprintf("gdfetch %s: exit %d: %s", strings.Join(extra, " "), code, strings.TrimSpace(stderr))
	return c
}

// apiResumable is DoResumable on a node set up as gdfetch sets it.
func apiResumable(t *testing.T, srv *resumegen.Server, file string) resumegen.Call {
	t.Helper()
	n := httprequest.New()
	defer n.Close()
	require.NoError(t, n.SetDownloadFile(file))
	require.NoError(t, n.SetTimeout(gdfetchTimeout))
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	r, err := n.DoResumable(ctx, srv.URL(), nil)
	var re *httprequest.ResultError
	c := resumegen.Call{Kind: resumegen.Resumable, Success: err == nil && r.Result == httprequest.ResultSuccess}
	c.Explained = errors.As(err, &re) && re.Result == r.Result && re.Cause != nil
	c.What = fmt.Sprintf("DoResumable: %v code %d outcome %v err %v", r.Result, r.ResponseCode, r.Outcome, err)
	return c
}
