//go:build unix

package main

// The rules fgExplain checks a difference against: each names what doc.go
// or Godot's rules (GODOT_SEMANTICS.md, COMPAT.md) state, and checks that
// gdfetch did exactly that.

import (
	"bytes"
	"strconv"
)

func init() {
	fgRules = []fgRule{
		{"doc.go -C: a GET only — with -X (other than GET), -d or -I a usage error, exit 2 (curl runs the request)", fgRuleResumeGetOnly},
		{"§2.8.1.5 (doc.go -L): a Location that is not http(s):// nor /… fails, exit 56", fgRuleBadPath},
		{"§1.8.7, §2.7.1 (doc.go usage: no header lines → exit 52): 100 Continue is the response, without headers: NO_RESPONSE", fgRuleContinue},
		{"§1.8.7: a 103 is the final response (no framing: no body)", fgRuleEarlyHints},
		{"§2.7.1 (doc.go usage): a status line without a header line is RESULT_NO_RESPONSE, exit 52", fgRuleNoHeaders},
		{"§1.9 (doc.go usage): no Content-Length, chunked nor Connection: close → an empty body", fgRuleNoFraming},
		{"§1.10.2.5: a chunk is delivered only whole (curl writes the partial chunk)", fgRulePartialChunk},
		{"doc.go -C: a code other than 200/206 is not written, FILE left as it was, exit 33 (22 with -f and ≥ 400)", fgRuleResumeOther},
		{"doc.go -i: FILE gets the body only; a 304 leaves it (emptiesOutput), where curl writes the headers into it", fgRule304Include},
		{"COMPAT Q2 (§2.8.2.4, D3): a gzip body that ends early is RESULT_BODY_DECOMPRESS_FAILED, exit 61", fgRuleGzipCut},
		{"§1.9 note, COMPAT R3/H2: HEAD + chunked, the server closes: CONNECTION_ERROR (Godot: R4 too, it waits for chunk data)", fgRuleHeadChunkedClose},
		{"§2.9.1, §2.6.1.1: body_size_limit against the Content-Length and the decoded running total (curl 7.88: only a known Content-Length, none on a 3xx)", fgRuleSizeLimit},
		{"doc.go -o: a failed run leaves FILE as it was (curl has written to it)", fgRuleFailedKeepsFile},
		{"§1.8.6: a HEAD's body size is 0 whatever its Content-Length, so --max-filesize does not fail it (curl 7.88 checks the Content-Length, exit 63)", fgRuleHeadSize},
		{"doc.go -I: with -X the method is sent and the node reads the body (not printed), so a body that fails fails the run; curl reads none", fgRuleHeadXReadsBody},
		{"doc.go -C: a cut download keeps its partial FILE, even empty, where curl creates none", fgRuleResumeKeepsPartial},
	}
}

// fgReachesFinal: Godot's chain ends at the final response.
func fgReachesFinal(c *fgCase) bool {
	kind, _ := fgGodotStop(c)
	return kind == fgStopFinal
}

// fgServed: the final response's head is sent (no empty reply, reset or stall first).
func fgServed(c *fgCase) bool {
	switch c.Final.Odd {
	case fgOddEmpty, fgOddPartial, fgOddResetFirst, fgOddStallFirst:
		return false
	}
	return true
}

// fgOnlyFailure: gdfetch's outputs are a failure's: exit code, no body on
// stdout (-i: the failure block), the -o file as it was (checked by
// fgCompare, which then lists it).
func fgOnlyFailure(c *fgCase, gd *fgResult, code int, diffs []fgDiff) bool {
	if gd.Code != code {
		return false
	}
	if c.has("-i") || c.has("-I") {
		if !bytes.HasPrefix(gd.Stdout, []byte("RESULT_")) || !bytes.HasSuffix(gd.Stdout, []byte(" 0\n\n")) {
			return false
		}
	} else if len(gd.Stdout) != 0 {
		return false
	}
	if gd.FileExists != (c.OldFile != nil) || !bytes.Equal(gd.File, c.OldFile) {
		return false // a failure leaves FILE as it was (doc.go -o; -C -: nothing received)
	}
	return fgOnly(diffs, "exit", "stdout", "include-code", "include-headers", "file", "file-exists")
}

// fgOnly: every difference is of these kinds.
func fgOnly(diffs []fgDiff, kinds ...string) bool {
	for _, d := range diffs {
		ok := false
		for _, k := range kinds {
			ok = ok || d.What == k
		}
		if !ok {
			return false
		}
	}
	return true
}

func fgRuleBadPath(c *fgCase, cu, gd *fgResult, diffs []fgDiff) bool {
	kind, _ := fgGodotStop(c)
	return kind == fgStopBadPath && fgOnlyFailure(c, gd, exitConnection, diffs)
}

func fgRuleContinue(c *fgCase, cu, gd *fgResult, diffs []fgDiff) bool {
	return fgReachesFinal(c) && fgServed(c) && c.Final.Pre == 1 && fgOnlyFailure(c, gd, exitNoResponse, diffs)
}

func fgRuleNoHeaders(c *fgCase, cu, gd *fgResult, diffs []fgDiff) bool {
	return fgReachesFinal(c) && c.Final.Odd == fgOddNoHeaders && c.Final.Pre != 2 && fgOnlyFailure(c, gd, exitNoResponse, diffs)
}

func fgRuleEarlyHints(c *fgCase, cu, gd *fgResult, diffs []fgDiff) bool {
	if !fgReachesFinal(c) || !fgServed(c) || c.Final.Pre != 2 || gd.Code != 0 {
		return false
	}
	if c.has("-i") || c.has("-I") {
		return bytes.Equal(gd.Stdout, []byte("RESULT_SUCCESS (0) 103\nLink: </s.css>; rel=preload\n\n"))
	}
	return len(gd.Stdout) == 0 && (!c.has("-o") || gd.FileExists && len(gd.File) == 0)
}

func fgRuleNoFraming(c *fgCase, cu, gd *fgResult, diffs []fgDiff) bool {
	f := c.Final
	if !fgReachesFinal(c) || !fgServed(c) || f.Pre != 0 || f.Odd == fgOddNoHeaders || gd.Code != 0 {
		return false
	}
	if f.Framing != fgNone && !(f.Odd == fgOddHTTP10 && f.Framing != fgClose && f.Framing != fgFixed && f.Framing != fgChunked) {
		return false
	}
	body := gd.Stdout
	if c.has("-i") || c.has("-I") {
		_, _, b, ok := fgSplitInclude(gd.Stdout)
		if !ok {
			return false
		}
		body = b
	}
	if c.has("-o") && (!gd.FileExists || len(gd.File) != 0) {
		return false
	}
	return len(body) == 0 && fgOnly(diffs, "exit", "stdout", "file", "file-exists")
}

func fgRulePartialChunk(c *fgCase, cu, gd *fgResult, diffs []fgDiff) bool {
	f := c.Final
	if !fgReachesFinal(c) || f.Framing != fgChunked || f.Cut < 0 || cu.Code != gd.Code {
		return false
	}
	if c.has("-i") || c.has("-o") {
		return false
	}
	return bytes.HasPrefix(cu.Stdout, gd.Stdout) && fgOnly(diffs, "stdout")
}

func fgRuleSizeLimit(c *fgCase, cu, gd *fgResult, diffs []fgDiff) bool {
	v, ok := c.flagValue("--max-filesize")
	if !ok || gd.Code != exitBodySize || c.Final.Echo {
		return false
	}
	if v == "0" {
		return false // curl: no limit (fgFindingMaxFilesizeZero)
	}
	limit := map[string]int{"0": 0, "10": 10, "100": 100, "5000": 5000, "1k": 1024}[v]
	var body []byte
	switch kind, k := fgGodotStop(c); kind {
	case fgStopFinal:
		body = fgBody(c.Final.Size, c.Seed)
	case fgStopDelivered:
		if c.Hops[k].Body { // a 3xx Godot delivers: its Content-Length is checked (§2.6.1.1; curl checks none on a 3xx)
			body = []byte("moved /h" + strconv.Itoa(k+1) + "\n")
		}
	}
	if len(body) <= limit {
		return false
	}
	if !c.has("-i") && !c.has("-I") && (len(gd.Stdout) > limit || !bytes.HasPrefix(body, gd.Stdout)) {
		return false
	}
	return fgOnly(diffs, "exit", "stdout", "file", "file-exists", "include-code", "include-headers")
}

func fgRuleResumeOther(c *fgCase, cu, gd *fgResult, diffs []fgDiff) bool {
	if !c.has("-C") {
		return false
	}
	var code int
	switch kind, k := fgGodotStop(c); {
	case kind == fgStopDelivered:
		code = c.Hops[k].Code
	case kind == fgStopOddPath:
		code = 404
	case kind == fgStopFinal && fgServed(c) && c.Final.Pre == 2:
		code = 103 // §1.8.7: the 103 is the response
	case kind == fgStopFinal && fgServed(c) && c.Final.Pre == 0 && c.Final.Odd != fgOddNoHeaders:
		code = c.Final.Code
	default:
		return false
	}
	if code == 200 {
		return false
	}
	want := 33
	if c.has("-f") && code >= 400 {
		want = exitHTTPError
	}
	return gd.Code == want && fgOnly(diffs, "exit", "stdout", "include-code", "include-headers", "file", "file-exists")
}

func fgRule304Include(c *fgCase, cu, gd *fgResult, diffs []fgDiff) bool {
	return c.Final.Code == 304 && fgReachesFinal(c) && (c.has("-i") || c.has("-I")) && c.has("-o") && !c.has("-C") &&
		gd.Code == 0 && bytes.Equal(gd.File, c.OldFile) && fgOnly(diffs, "file", "file-exists")
}

func fgRuleResumeGetOnly(c *fgCase, cu, gd *fgResult, diffs []fgDiff) bool {
	v, _ := c.flagValue("-X")
	return c.has("-C") && (v != "" && v != "GET" || c.has("-d") || c.has("-I")) && gd.Code == exitUsage
}

// fgRuleGzipCut: the gzip body (always, or accepted: gdfetch asks for it
// unless --no-gzip; or the corrupt one cut inside its valid 10-byte head)
// ends early. curl 7.88 writes what it decoded and exits 0; gdfetch fails
// as a failure does (-o FILE as it was, -i the failure's block).
func fgRuleGzipCut(c *fgCase, cu, gd *fgResult, diffs []fgDiff) bool {
	f := c.Final
	gzipped := f.Gzip == 2 || (f.Gzip == 1 || f.Gzip == 3 && f.Cut <= 10) && !c.has("--no-gzip")
	if !fgReachesFinal(c) || !gzipped || f.Cut < 0 || gd.Code != exitDecode {
		return false
	}
	if !c.has("-o") && !c.has("-i") {
		return fgOnly(diffs, "exit", "stdout")
	}
	return fgFailureKeepsFile(c, gd) && fgOnly(diffs, "exit", "stdout", "include-code", "include-headers", "file", "file-exists")
}

// fgFailureKeepsFile: the -o file, if any, is as it was before the run
// (doc.go -o: a failed run leaves FILE as it was).
func fgFailureKeepsFile(c *fgCase, gd *fgResult) bool {
	return !c.has("-o") || gd.FileExists == (c.OldFile != nil) && bytes.Equal(gd.File, c.OldFile)
}

// fgRuleFailedKeepsFile: both fail alike, and curl has written to the -o
// file where gdfetch leaves it as it was (doc.go -o).
func fgRuleFailedKeepsFile(c *fgCase, cu, gd *fgResult, diffs []fgDiff) bool {
	return c.has("-o") && gd.Code != 0 && gd.Code == cu.Code && fgFailureKeepsFile(c, gd) && fgOnly(diffs, "file", "file-exists")
}

func fgRuleHeadChunkedClose(c *fgCase, cu, gd *fgResult, diffs []fgDiff) bool {
	f := c.Final
	closes := f.Odd == fgOddHTTP10 || f.Cut >= 0
	return c.has("-I") && fgReachesFinal(c) && f.Framing == fgChunked && closes && (gd.Code == exitNoResponse || gd.Code == exitConnection)
}

func fgRuleHeadSize(c *fgCase, cu, gd *fgResult, diffs []fgDiff) bool {
	_, method := c.flagValue("-X")
	_, limit := c.flagValue("--max-filesize")
	return c.has("-I") && !method && limit && cu.Code == exitBodySize && gd.Code == 0 && fgOnly(diffs, "exit", "file", "file-exists")
}

func fgRuleHeadXReadsBody(c *fgCase, cu, gd *fgResult, diffs []fgDiff) bool {
	method, ok := c.flagValue("-X")
	f := c.Final
	broken := f.Cut >= 0 || f.Gzip == 3 && !c.has("--no-gzip") || c.has("--max-filesize")
	return c.has("-I") && ok && method != "HEAD" && broken && fgReachesFinal(c) && cu.Code == 0 && gd.Code != 0 &&
		bytes.HasPrefix(gd.Stdout, []byte("RESULT_")) && fgFailureKeepsFile(c, gd) &&
		fgOnly(diffs, "exit", "stdout", "include-code", "include-headers", "file", "file-exists")
}

func fgRuleResumeKeepsPartial(c *fgCase, cu, gd *fgResult, diffs []fgDiff) bool {
	f := c.Final
	return fgResumes(c) && fgReachesFinal(c) && f.Cut >= 0 && gd.Code != 0 && gd.Code == cu.Code && !cu.FileExists &&
		gd.FileExists && len(gd.File) <= f.Cut && fgOnly(diffs, "file", "file-exists")
}
