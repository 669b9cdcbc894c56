package obatch_test

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	obatch "github.com/obatch/obatch/bindings/go"
)

// rssKiB is the resident set size of this process.
func rssKiB(t *testing.T) int64 {
	t.Helper()
	if raceEnabled {
		t.Skip("RSS is not a measure of leaks under the race detector")
	}
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skipf("no /proc/self/statm: %v", err)
	}
	f := strings.Fields(string(b))
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize()) / 1024
}

// growth is what a loop added to the process: the C heap in use (malloc's
// count, -1 where it has none), the Go heap in use and the resident set.
type growth struct{ cHeap, goHeap, rss int64 }

// footprint measures the process once it has settled: the dropped batches'
// cleanups done, the Go heap's garbage collected, and every malloc arena's
// free pages given back.
func footprint(t *testing.T) growth {
	// GC queues the cleanups of dropped batches; they run on their own
	// goroutine, one after the other.
	deadline := time.Now().Add(20 * time.Second)
	for obatch.LiveHandles() > 0 && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
	}
	debug.FreeOSMemory() // the Go heap's garbage is not a leak
	obatch.CHeapTrim()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	c := obatch.CHeapInUse()
	if c >= 0 {
		c /= 1024
	}
	return growth{cHeap: c, goHeap: int64(ms.HeapAlloc) / 1024, rss: rssKiB(t)}
}

// leakLoop runs create / add / (close) n times and returns what the process
// grew by over the loop (after a warm-up of as many rounds), in KiB.
func leakLoop(t *testing.T, n int, close bool) growth {
	round := func() {
		b, err := obatch.New(obatch.WithProvider("openai"), obatch.WithMetadata("k", "v"))
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := b.Add(map[string]any{"model": "gpt-4o-mini",
				"messages": []map[string]string{{"role": "user", "content": strings.Repeat("x", 200)}}}); err != nil {
				t.Fatal(err)
			}
		}
		_, _ = b.Add(`{"bad json`) // the error path too
		if _, err := b.Info(); err != nil {
			t.Fatal(err)
		}
		if close {
			b.Close()
		}
	}
	loop := func() {
		for i := range n {
			round()
			if !close && i%100 == 99 {
				runtime.GC() // a steady state: at most ~100 dropped batches waiting
			}
		}
	}
	loop() // the warm-up reaches the high-water marks of malloc and the Go heap
	before := footprint(t)
	loop()
	after := footprint(t)
	g := growth{after.cHeap - before.cHeap, after.goHeap - before.goHeap, after.rss - before.rss}
	t.Logf("%d rounds (close=%v): C heap in use %d -> %d KiB (%+d); Go heap %d -> %d KiB (%+d); "+
		"RSS %d -> %d KiB (%+d); live handles %d", n, close,
		before.cHeap, after.cHeap, g.cHeap, before.goHeap, after.goHeap, g.goHeap,
		before.rss, after.rss, g.rss, obatch.LiveHandles())
	if h := obatch.LiveHandles(); h != 0 {
		t.Errorf("%d handles were not freed", h)
	}
	if before.cHeap < 0 {
		g.cHeap = -1
	}
	return g
}

// A loop of create / add / destroy leaks nothing: Close frees everything,
// and so does the cleanup of a Batch dropped without Close.
//
// The measure is the C heap in use (malloc's own count) and the Go heap in
// use. The resident set size is logged but not judged where malloc can be
// asked: the cleanups free handles on other threads, and a machine under
// load makes the runtime start more of them, each with an arena and a stack
// of its own (CI once saw RSS +6 MB with every handle freed).
func TestNoLeak(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir()) // the batches' private work directories
	n := leakRounds(2000)
	// One batch holds well over 1 KiB of C heap; a leak of one 512-byte block
	// per round shows as n/2 KiB. Without a leak the count moves by up to
	// ~150 KiB (blocks kept in each thread's malloc cache).
	cLimit := max(int64(n/4), 512)
	const goLimitKiB = 1024
	const rssLimitKiB = 4096 // only without malloc's count
	for _, close := range []bool{true, false} {
		g := leakLoop(t, n, close)
		what := "with Close"
		if !close {
			what = "without Close (cleanup)"
		}
		if g.cHeap >= 0 && g.cHeap > cLimit {
			t.Errorf("%s: the C heap in use grew by %d KiB over %d rounds (limit %d)", what, g.cHeap, n, cLimit)
		}
		if g.cHeap < 0 && g.rss > rssLimitKiB {
			t.Errorf("%s: RSS grew by %d KiB over %d rounds (limit %d)", what, g.rss, n, rssLimitKiB)
		}
		if g.goHeap > goLimitKiB {
			t.Errorf("%s: the Go heap in use grew by %d KiB over %d rounds (limit %d)", what, g.goHeap, n, goLimitKiB)
		}
	}
}

// Reading results and snapshots (every string copied out of C) leaks
// nothing either.
func TestNoLeakReading(t *testing.T) {
	srv := startServer(t, map[string]any{"steps": 0, "fail_custom_ids": []string{"q2"}})
	ctx := testContext(t)
	b, err := obatch.New(srv.options(t)...)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	addAll(t, b, 20)
	if err := b.Submit(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Wait(ctx, nil); err != nil {
		t.Fatal(err)
	}
	read := func(n int) {
		for range n {
			for _, err := range b.Results() {
				if err != nil {
					t.Fatal(err)
				}
			}
			if _, err := b.Lookup("q7"); err != nil {
				t.Fatal(err)
			}
			if _, err := b.Lookup("nope"); err == nil {
				t.Fatal("lookup nope")
			}
			if _, err := b.Info(); err != nil {
				t.Fatal(err)
			}
		}
		runtime.GC()
		debug.FreeOSMemory()
	}
	n := leakRounds(500)
	read(n)
	before := footprint(t)
	read(n)
	after := footprint(t)
	t.Logf("%d rounds of 20 results + 2 lookups + info: C heap in use %d -> %d KiB; Go heap %d -> %d KiB; RSS %d -> %d KiB",
		n, before.cHeap, after.cHeap, before.goHeap, after.goHeap, before.rss, after.rss)
	if before.cHeap >= 0 && after.cHeap-before.cHeap > max(int64(n/4), 512) {
		t.Errorf("the C heap in use grew by %d KiB", after.cHeap-before.cHeap)
	}
	if before.cHeap < 0 && after.rss-before.rss > 4096 {
		t.Errorf("RSS grew by %d KiB", after.rss-before.rss)
	}
	if after.goHeap-before.goHeap > 1024 {
		t.Errorf("the Go heap in use grew by %d KiB", after.goHeap-before.goHeap)
	}
}

// leakRounds is def, or OBATCH_LEAK_ROUNDS; 1/5 of it with -short.
func leakRounds(def int) int {
	if s := os.Getenv("OBATCH_LEAK_ROUNDS"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	if testing.Short() {
		return def / 5
	}
	return def
}
