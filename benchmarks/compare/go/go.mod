module stackless.dev/compare/go

go 1.19
