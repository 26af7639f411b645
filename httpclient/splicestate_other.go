//go:build unix && !linux

package httpclient

// spliceState is empty where there is no splice(2).
type spliceState struct{}
