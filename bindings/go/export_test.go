package obatch

import "github.com/obatch/obatch/bindings/go/raw"

// LiveHandles is how many batch handles are not freed yet.
func LiveHandles() int64 { return live.Load() }

// CHeapInUse is the bytes of C heap in use, or -1 where glibc cannot say.
func CHeapInUse() int64 { return raw.HeapInUse() }

// CHeapTrim returns the free pages of every malloc arena to the system.
func CHeapTrim() { raw.HeapTrim() }
