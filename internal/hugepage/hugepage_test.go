package hugepage

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDisabled(t *testing.T) {
	for godebug, want := range map[string]bool{
		"":                            false,
		"disablethp=1":                true,
		"disablethp=2":                true,
		"disablethp=0":                false,
		"madvdontneed=1,disablethp=1": true,
		"disablethp=1,disablethp=0":   false,
		"disablethp=0,disablethp=1":   true,
		"disablethp=1,disablethp=x":   true, // not a number: ignored, as the runtime does
		"xdisablethp=1":               false,
		"disablethp":                  false,
	} {
		assert.Equal(t, want, disabled(godebug), "GODEBUG=%q", godebug)
	}
}
