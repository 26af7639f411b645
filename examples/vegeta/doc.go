// Command vegeta attacks an HTTP server with github.com/tsenart/vegeta
// through gdhttp's Transport: every request leaves with the bytes a Godot
// game's HTTPClient would write, so a load test sees the server as Godot
// players do.
//
//	go run . -url http://127.0.0.1:8080/ -rate 500 -duration 5s
//
// With no -url it starts a loopback server of its own and attacks that.
package main
