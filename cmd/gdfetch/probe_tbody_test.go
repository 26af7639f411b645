package main

import (
	"bufio"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Findings of the tbody harness (TestTbodyGdfetch), each a deterministic
// case that fails on the current code.

// tbodyOneRequest serves one connection on 127.0.0.1: it reads the request
// head and hands the connection to then. It returns the URL and a channel
// that gets the request's body (read until the client's end) when then
// reads it.
func tbodyOneRequest(t *testing.T, then func(c net.Conn, br *bufio.Reader, head string)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			br := bufio.NewReader(c)
			var head strings.Builder
			for {
				line, err := br.ReadString('\n')
				head.WriteString(line)
				if err != nil || line == "\r\n" {
					break
				}
			}
			then(c, br, head.String())
			_ = c.Close()
		}
	}()
	t.Cleanup(func() { _ = ln.Close(); <-done })
	return "http://" + ln.Addr().String() + "/up"
}

// TestProbeTbodyDataFileBareCR: -d @FILE builds the body with "curl's
// rules: an @FILE's content ... without CR/LF" (doc.go, -d). curl 7.88
// does not remove the CR and LF bytes: it reads the file in fgets() pieces
// of up to 255 bytes and ends each piece at its first CR, then at its
// first LF, and appends it as a C string (so also at its first NUL) —
// tool_paramhlp.c, file2string:
//
//	while(fgets(buffer, sizeof(buffer), file)) {
//	  char *ptr = strchr(buffer, '\r');
//	  if(ptr)
//	    *ptr = '\0';
//	  ptr = strchr(buffer, '\n');
//	  if(ptr)
//	    *ptr = '\0';
//	  if(curlx_dyn_add(&dyn, buffer))
//
// For CR LF and LF line ends the two agree; a bare CR (a classic Mac line
// end, a stray CR) or a NUL in the file makes them differ: for
// "ab\rcd\nef\r\ngh" curl 7.88 sends "abefgh" (checked with /usr/bin/curl
// 7.88.1: the "cd" after the bare CR is dropped), gdfetch "abcdefgh"; for
// "a\x00b\ncd" curl sends "acd", gdfetch "a\x00bcd". (readData in flags.go
// removes every CR and LF byte.)
func TestProbeTbodyDataFileBareCR(t *testing.T) {
	for _, tc := range []struct{ file, curl string }{
		{"ab\rcd\nef\r\ngh", "abefgh"},
		{"a\x00b\ncd", "acd"},
	} {
		got := make(chan string, 1)
		url := tbodyOneRequest(t, func(c net.Conn, br *bufio.Reader, head string) {
			n := 0
			for _, l := range strings.Split(head, "\r\n") {
				if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, "Content-Length") {
					n, _ = strconv.Atoi(strings.TrimSpace(v))
				}
			}
			b := make([]byte, n)
			_, _ = io.ReadFull(br, b)
			got <- string(b)
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		})
		path := filepath.Join(t.TempDir(), "data.txt")
		if err := os.WriteFile(path, []byte(tc.file), 0o644); err != nil {
			t.Fatal(err)
		}
		if curl, err := exec.LookPath("curl"); err == nil {
			cmd := exec.Command(curl, "-s", "-o", "/dev/null", "-d", "@"+path, url)
			cmd.Env = append(os.Environ(), "http_proxy=", "HTTP_PROXY=", "NO_PROXY=", "no_proxy=")
			if err := cmd.Run(); err == nil {
				if b := <-got; b != tc.curl {
					t.Logf("this curl sends %q for %q (curl 7.88: %q)", b, tc.file, tc.curl)
				}
			}
		}
		code, _, errOut := gdfetch(t, "-s", "-x", "", "-d", "@"+path, url)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if b := <-got; b != tc.curl {
			t.Errorf("-d @FILE holding %q: gdfetch sent %q, curl 7.88 sends %q (doc.go: curl's rules)", tc.file, b, tc.curl)
		}
	}
}
