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

// leakLoop runs create / add / (close) n times and returns the RSS growth
// over the loop (after a warm-up of as many rounds).
func leakLoop(t *testing.T, n int, close bool) int64 {
	round := func() {
		b, err := obatch.New(obatch.WithProvider("openai"), obatch.WithMetadata("k", "v"))
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if err := b.Add(map[string]any{"model": "gpt-4o-mini",
				"messages": []map[string]string{{"role": "user", "content": strings.Repeat("x", 200)}}}); err != nil {
				t.Fatal(err)
			}
		}
		_ = b.Add(`{"bad json`) // the error path too
		if _, err := b.Info(); err != nil {
			t.Fatal(err)
		}
		if close {
			b.Close()
		}
	}
	settle := func() {
		// GC queues the cleanups of dropped batches; they run on their own
		// goroutine, one after the other.
		deadline := time.Now().Add(20 * time.Second)
		for obatch.LiveHandles() > 0 && time.Now().Before(deadline) {
			runtime.GC()
			time.Sleep(20 * time.Millisecond)
		}
		debug.FreeOSMemory() // the Go heap's garbage is not a leak
	}
	for i := range n { // the warm-up reaches the high-water mark of malloc's arenas
		round()
		if !close && i%100 == 99 {
			runtime.GC()
		}
	}
	settle()
	before := rssKiB(t)
	for i := range n {
		round()
		if !close && i%100 == 99 {
			runtime.GC() // a steady state: at most ~100 dropped batches waiting
		}
	}
	settle()
	after := rssKiB(t)
	t.Logf("%d rounds (close=%v): RSS %d KiB -> %d KiB (%+d KiB); live handles %d",
		n, close, before, after, after-before, obatch.LiveHandles())
	if h := obatch.LiveHandles(); h != 0 {
		t.Errorf("%d handles were not freed", h)
	}
	return after - before
}

// A loop of create / add / destroy shows no growth: Close frees everything,
// and so does the cleanup of a Batch dropped without Close.
func TestNoLeak(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir()) // the batches' private work directories
	n := leakRounds(2000)
	const limitKiB = 4096 // a leak of a batch (>1 KiB each) would show as n KiB and more
	if g := leakLoop(t, n, true); g > limitKiB {
		t.Errorf("with Close: RSS grew by %d KiB over %d rounds", g, n)
	}
	if g := leakLoop(t, n, false); g > limitKiB {
		t.Errorf("without Close (cleanup): RSS grew by %d KiB over %d rounds", g, n)
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
	before := rssKiB(t)
	read(n)
	after := rssKiB(t)
	t.Logf("%d rounds of 20 results + 2 lookups + info: RSS %d KiB -> %d KiB (%+d KiB)", n, before, after, after-before)
	if after-before > 4096 {
		t.Errorf("RSS grew by %d KiB", after-before)
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
