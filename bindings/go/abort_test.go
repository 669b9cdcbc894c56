package obatch_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/obatch/obatch/bindings/go"
)

// The bound of issue 18: a done ctx ends every remote call within 100 ms.
const abortBound = 100 * time.Millisecond

// silentServer accepts connections (the kernel's backlog) and never answers.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return fmt.Sprintf("http://%s/v1", ln.Addr())
}

// refusedPort is a loopback port nothing listens on: every try is refused at
// once and the call sits in its back-off between retries.
func refusedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return fmt.Sprintf("http://%s/v1", addr)
}

func remoteOpts(url string) []obatch.Option {
	return []obatch.Option{obatch.WithProvider("openai"), obatch.WithBaseURL(url),
		obatch.WithAPIKey("test-key"), obatch.WithConfig("max_retries", "8")}
}

// Every remote call, against both servers, returns within the bound after
// its ctx is cancelled, with an error that is both ErrAborted and
// context.Canceled; a ticker goroutine keeps ticking meanwhile.
func TestRemoteCallsHonourCtx(t *testing.T) {
	calls := map[string]func(ctx context.Context, url string) error{
		"ListPage": func(ctx context.Context, url string) error {
			_, err := obatch.ListPage(ctx, "", 0, remoteOpts(url)...)
			return err
		},
		"Retrieve": func(ctx context.Context, url string) error {
			_, err := obatch.Retrieve(ctx, "batch_1", remoteOpts(url)...)
			return err
		},
		"CancelBatch": func(ctx context.Context, url string) error {
			_, err := obatch.CancelBatch(ctx, "batch_1", remoteOpts(url)...)
			return err
		},
	}
	servers := map[string]func(*testing.T) string{"silent": silentServer, "refused": refusedPort}
	for name, call := range calls {
		for kind, server := range servers {
			t.Run(name+"/"+kind, func(t *testing.T) {
				url := server(t)
				ctx, cancel := context.WithCancel(context.Background())
				var ticks atomic.Int64
				stopTicker := make(chan struct{})
				go func() {
					tk := time.NewTicker(10 * time.Millisecond)
					defer tk.Stop()
					for {
						select {
						case <-stopTicker:
							return
						case <-tk.C:
							ticks.Add(1)
						}
					}
				}()
				defer close(stopTicker)
				var cancelledAt atomic.Int64 // set on the timer's goroutine
				time.AfterFunc(300*time.Millisecond, func() {
					cancelledAt.Store(time.Now().UnixNano())
					cancel()
				})
				err := call(ctx, url)
				took := time.Since(time.Unix(0, cancelledAt.Load()))
				if cancelledAt.Load() == 0 {
					t.Fatalf("returned before the cancel: %v", err)
				}
				if !errors.Is(err, obatch.ErrAborted) || !errors.Is(err, context.Canceled) {
					t.Fatalf("err = %v, want ErrAborted and context.Canceled", err)
				}
				if took > abortBound {
					t.Fatalf("returned %v after the cancel (bound %v)", took, abortBound)
				}
				// Other goroutines ran while the call waited (not 30 ticks:
				// a loaded machine, as CI with two jobs is, runs this far less).
				if ticks.Load() < 3 {
					t.Fatalf("the ticker ticked %d times in 300 ms", ticks.Load())
				}
				t.Logf("returned %v after the cancel", took)
			})
		}
	}
}

// A deadline works the same way, and a ctx done before the call sends nothing.
func TestRemoteCallDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := obatch.Retrieve(ctx, "batch_1", remoteOpts(silentServer(t))...)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, obatch.ErrAborted) {
		t.Fatalf("err = %v", err)
	}
	if took := time.Since(start); took > 200*time.Millisecond+abortBound {
		t.Fatalf("took %v for a 200 ms deadline", took)
	}
	_, err = obatch.ListPage(ctx, "", 0, remoteOpts(silentServer(t))...)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("done ctx: err = %v", err)
	}
}

// Wait does not hold the handle while it waits: Info from another goroutine
// answers at once, and cancelling Wait's ctx ends it within the bound.
func TestWaitLeavesTheHandleFree(t *testing.T) {
	url := silentServer(t) // the upload never gets an answer: the batch waits
	b, err := obatch.New(append(remoteOpts(url), obatch.WithWorkDir(t.TempDir()),
		obatch.WithConfig("state", "off"))...)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.Add(map[string]any{"model": "gpt-4o-mini",
		"messages": []map[string]string{{"role": "user", "content": "x"}}}); err != nil {
		t.Fatal(err)
	}
	if err := b.Submit(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := b.Wait(ctx, nil)
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	var slowest time.Duration
	for i := 0; i < 10; i++ {
		start := time.Now()
		if _, err := b.Info(); err != nil {
			t.Fatal(err)
		}
		slowest = max(slowest, time.Since(start))
		time.Sleep(20 * time.Millisecond)
	}
	if slowest > abortBound {
		t.Fatalf("Info took up to %v while Wait ran", slowest)
	}
	start := time.Now()
	cancel()
	err = <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait: %v", err)
	}
	if took := time.Since(start); took > abortBound {
		t.Fatalf("Wait returned %v after the cancel", took)
	}
}
