module github.com/gdhttp/gdhttp/benchmarks

go 1.26

replace github.com/gdhttp/gdhttp => ../
