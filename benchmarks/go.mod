module github.com/gdhttp/gdhttp/benchmarks

go 1.26.0

replace github.com/gdhttp/gdhttp => ../

require github.com/gdhttp/gdhttp v0.0.0-00010101000000-000000000000

require (
	github.com/andybalholm/brotli v1.3.0 // indirect
	github.com/klauspost/compress v1.20.4 // indirect
)
