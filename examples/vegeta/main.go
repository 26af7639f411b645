package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/gdhttp/gdhttp/httpclient"
)

func main() {
	target := flag.String("url", "", "URL to attack (default: a loopback server started here)")
	rate := flag.Int("rate", 200, "requests per second")
	duration := flag.Duration("duration", 2*time.Second, "length of the attack")
	flag.Parse()
	if *target == "" {
		srv := httptest.NewServer(http.HandlerFunc(gameHandler))
		defer srv.Close()
		*target = srv.URL + "/api/scores"
	}
	m, err := attack(*target, *rate, *duration)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vegeta:", err)
		os.Exit(2)
	}
	vegeta.NewTextReporter(m).Report(os.Stdout)
	if m.Success < 1 {
		os.Exit(1)
	}
}

// gameHandler is a tiny game backend: it answers with JSON and tells
// whether the request came from a Godot client.
func gameHandler(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"scores":[1,2,3],"ua":%q}`, r.UserAgent())
}

// attack runs one vegeta attack on url through gdhttp's Transport and
// returns its metrics.
func attack(url string, rate int, d time.Duration) (*vegeta.Metrics, error) {
	tr := &httpclient.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	attacker := vegeta.NewAttacker(vegeta.Client(client))
	targeter := vegeta.NewStaticTargeter(vegeta.Target{Method: "GET", URL: url})
	var m vegeta.Metrics
	for res := range attacker.Attack(targeter, vegeta.Rate{Freq: rate, Per: time.Second}, d, "gdhttp") {
		m.Add(res)
	}
	m.Close()
	return &m, nil
}
