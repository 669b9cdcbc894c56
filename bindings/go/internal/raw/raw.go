// Package raw is the SWIG-generated layer over the C API of libobatch
// (include/obatch/obatch.h), one Go function per C function. It is internal:
// use the package obatch one directory up.
//
// The generated files (obatch.go, obatch_wrap.c) are not in git. Make them
// with `go generate ./...` in bindings/go (needs swig 4.x), or with the CMake
// build (-DOBATCH_BINDINGS=go). The typemaps are in bindings/go/obatch_go.i.
//
// The library is found with pkg-config (obatch.pc): set PKG_CONFIG_PATH to
// <prefix>/lib/pkgconfig when it is not installed in a standard place.
package raw

//go:generate swig -go -cgo -intgosize 64 -package raw -I../../../../include -outdir . -o obatch_wrap.c ../../../obatch.i

// #cgo pkg-config: obatch
import "C"
