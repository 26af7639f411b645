module github.com/gdhttp/gdhttp

go 1.26
