package httprequest

import (
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestGoroutineID: goroutineID (onWorker: CancelRequest called from a
// use_threads callback must not join the worker it runs on) reads every
// decimal digit of the goroutine's number: it is compared with the number
// runtime.Stack prints, over enough new goroutines that their numbers hold
// each digit, 0 and 9 included.
func TestGoroutineID(t *testing.T) {
	digits := map[rune]bool{}
	for len(digits) < 10 {
		got, want := make(chan uint64), make(chan string)
		go func() {
			buf := make([]byte, 64)
			s := string(buf[:runtime.Stack(buf, false)])
			want <- strings.Fields(s)[1] // "goroutine 42 [running]:"
			got <- goroutineID(buf)
		}()
		w := <-want
		require.Equal(t, w, strconv.FormatUint(<-got, 10))
		for _, d := range w {
			digits[d] = true
		}
	}
}
