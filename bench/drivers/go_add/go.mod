module obatch.bench/goadd

go 1.24

require github.com/obatch/obatch/bindings/go v0.0.0

replace github.com/obatch/obatch/bindings/go => ../../../bindings/go
