//go:build unix && !linux && !gdhttp_portable

package httpclient

// spliceState is empty where there is no splice(2).
type spliceState struct{}
