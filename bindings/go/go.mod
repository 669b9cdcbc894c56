module github.com/obatch/obatch/bindings/go

go 1.24
