package raw

// The C heap as glibc's malloc sees it, for the binding's leak tests. The
// resident set size is no measure of a leak once handles are freed on the
// runtime's cleanup goroutine: those frees happen on other threads, and
// every new thread can bring its own malloc arena and stack. The bytes malloc
// has handed out and not had back are.

/*
#include <stdlib.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

static long long obatch_go_heap_in_use(void) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
	struct mallinfo2 m = mallinfo2(); // summed over every arena
	return (long long)(m.uordblks + m.hblkhd);
#else
	return -1;
#endif
}

static void obatch_go_heap_trim(void) {
#if defined(__GLIBC__)
	malloc_trim(0);
#endif
}
*/
import "C"

// HeapInUse is the bytes of C heap allocated and not yet freed (small blocks
// in every arena plus mmapped ones), or -1 where the C library cannot say
// (glibc before 2.33, musl).
func HeapInUse() int64 { return int64(C.obatch_go_heap_in_use()) }

// HeapTrim gives the free pages of every malloc arena back to the system, so
// that the resident set size after it counts what is in use.
func HeapTrim() { C.obatch_go_heap_trim() }
