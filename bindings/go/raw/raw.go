// Package raw is the SWIG-generated layer over the C API of libobatch
// (include/obatch/obatch.h), one Go function per C function: the escape
// hatch for what the package obatch one directory up does not cover (as
// Node's `raw` and Ruby's Obatch::Raw). Handles are uintptr (C memory; free
// each with its own *_destroy, once), status codes int, strings Go strings.
// Its names follow SWIG, not Go, and it may change with the C API: prefer
// the package obatch.
//
// The generated files (obatch.go, obatch_wrap.c) are committed: a consumer
// of the module builds it from its files in git, and Go cannot run SWIG then.
// After a change to bindings/obatch.i, bindings/go/obatch_go.i or
// include/obatch/obatch.h, run `go generate ./...` in bindings/go (Debian 12's
// swig 4.1.0) and commit both; the test bindings.go.generated fails until
// they match. The typemaps are in bindings/go/obatch_go.i.
//
// The library is found with pkg-config (obatch.pc): set PKG_CONFIG_PATH to
// <prefix>/lib/pkgconfig when it is not installed in a standard place.
package raw

//go:generate swig -go -cgo -intgosize 64 -package raw -I../../../include -outdir . -o obatch_wrap.c ../../obatch.i

// #cgo pkg-config: obatch
import "C"
