package drive

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// fakeClient walks through statuses, one per Poll; Poll returns errs[i]
// for the i-th call.
type fakeClient struct {
	statuses []string
	errs     []error
	polls    int
}

func (f *fakeClient) Status() string { return f.statuses[min(f.polls, len(f.statuses)-1)] }
func (f *fakeClient) Poll() error {
	f.polls++
	if f.polls-1 < len(f.errs) {
		return f.errs[f.polls-1]
	}
	return nil
}

func TestPollerWhile(t *testing.T) {
	boom := errors.New("boom")
	for _, blocking := range []bool{false, true} {
		c := &fakeClient{statuses: []string{"resolving", "connecting", "connecting", "connected"}, errs: []error{nil, nil, boom}}
		notes := 0
		p := Poller[string]{Blocking: blocking, Gap: time.Microsecond, Wait: time.Second, Note: func() { notes++ }}
		err := p.While(t, c, "resolving", "connecting")
		assert.Equal(t, boom, err, "the last Poll's error")
		assert.Equal(t, 3, c.polls)
		assert.Equal(t, 3, notes, "Note after every Poll")
		assert.NoError(t, p.While(t, c, "resolving"), "no Poll when the status is not one of ss")
		assert.Equal(t, 3, c.polls)
	}
}

func TestPollerBody(t *testing.T) {
	c := &fakeClient{statuses: []string{"body", "body", "body", "connected"}}
	var reads []int
	p := Poller[string]{Gap: time.Microsecond, Wait: time.Second}
	p.Body(t, c, "body", func() bool {
		reads = append(reads, c.polls)
		return c.polls == 1
	})
	assert.Equal(t, []int{1, 2}, reads, "a read after every Poll that left the status BODY")
	assert.Equal(t, 3, c.polls)
}
