package obatch_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	obatch "github.com/obatch/obatch/bindings/go"
)

// Deferred requests (Queue) end to end against the local fake Batch server:
// the scenario every binding runs (Node, Go, Ruby), on a SQLite store and,
// when OBATCH_TEST_PG_URI names a server, on a fresh PostgreSQL database.
// 20 puts (two of the same request: one ticket), worker steps until every
// request completed with its own answer (the fake server echoes the
// custom_id, which is the ticket), and the errors: a bad body, an unknown
// ticket, a wait that runs out of time, a client id used twice.

// wantQueueError checks that err is an *obatch.Error of the sentinel's code whose
// message has every word.
func wantQueueError(t *testing.T, err error, sentinel error, words ...string) *obatch.Error {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("got %v, want %v", err, sentinel)
	}
	var e *obatch.Error
	if !errors.As(err, &e) {
		t.Fatalf("%v is not an *obatch.Error", err)
	}
	for _, w := range words {
		if !strings.Contains(e.Message, w) {
			t.Errorf("the message %q does not name %q", e.Message, w)
		}
	}
	return e
}

var ticketRe = regexp.MustCompile(`^obq_[0-9a-f]{32}$`)

func queueScenario(t *testing.T, store string) {
	ctx := context.Background()
	s := startServer(t, map[string]any{"steps": 1})
	dir := t.TempDir()
	started := time.Now()
	q, err := obatch.OpenQueue(store, s.options(t,
		obatch.WithWorkDir(dir),
		obatch.WithState(filepath.Join(dir, "jobs.db")),
		obatch.WithFlushAge(time.Second))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	if q.Store() != store {
		t.Errorf("Store() = %q", q.Store())
	}

	// 20 puts: 19 requests, then the first one again (as JSON text, its
	// keys in another order): the same ticket, stored once.
	var tickets []string
	for i := 0; i < 19; i++ {
		ticket, err := q.Put(ctx, chat(fmt.Sprintf("q %d", i)))
		if err != nil {
			t.Fatal(err)
		}
		tickets = append(tickets, ticket)
	}
	again, err := q.Put(ctx, `{"messages":[{"content":"q 0","role":"user"}],"model":"gpt-4o-mini"}`)
	if err != nil {
		t.Fatal(err)
	}
	tickets = append(tickets, again)
	if len(tickets) != 20 || tickets[19] != tickets[0] {
		t.Fatalf("the same request got tickets %q and %q", tickets[0], tickets[19])
	}
	unique := map[string]bool{}
	for _, ticket := range tickets {
		if !ticketRe.MatchString(ticket) {
			t.Errorf("ticket %q", ticket)
		}
		unique[ticket] = true
	}
	if len(unique) != 19 {
		t.Fatalf("%d distinct tickets, want 19", len(unique))
	}

	queued, err := q.Get(ctx, tickets[3])
	if err != nil {
		t.Fatal(err)
	}
	if queued.Ticket != tickets[3] || queued.State != obatch.QueueQueued || queued.State.String() != "queued" ||
		queued.State.Ended() || queued.Provider != "openai" || queued.Endpoint != "/v1/chat/completions" ||
		queued.Model != "gpt-4o-mini" || queued.StatusCode != 0 || queued.Body != nil || queued.RawBody != nil ||
		queued.ErrorCode != "" || queued.BatchID != "" || queued.Attempts != 0 ||
		!queued.SubmittedAt.IsZero() || !queued.EndedAt.IsZero() {
		t.Errorf("a queued request: %+v", queued)
	}
	if queued.CreatedAt.Before(started.Add(-time.Second)) || queued.CreatedAt.After(time.Now().Add(time.Second)) {
		t.Errorf("CreatedAt %v, started %v", queued.CreatedAt, started)
	}
	stats, err := q.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if stats.Queued != 19 || stats.Completed != 0 || stats.OldestQueued.IsZero() || stats.OldestQueued.After(queued.CreatedAt) {
		t.Errorf("stats after the puts: %+v", stats)
	}

	// Worker steps until every request completed.
	var flushed, stored uint64
	until := time.Now().Add(60 * time.Second)
	for stats.Completed < 19 {
		if time.Now().After(until) {
			t.Fatalf("not every request completed within 60 s: %+v", stats)
		}
		if stats, err = q.Work(ctx, 200*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		flushed += stats.Flushed
		stored += stats.Stored
	}
	if flushed != 19 || stored != 19 || stats.Queued != 0 || stats.Submitted != 0 || stats.Failed != 0 || stats.Expired != 0 {
		t.Errorf("flushed %d, stored %d, stats %+v", flushed, stored, stats)
	}

	// Every answer is the request's own.
	batches := map[string]bool{}
	for ticket := range unique {
		e, err := q.Get(ctx, ticket)
		if err != nil {
			t.Fatal(err)
		}
		var answer struct {
			Choices []struct {
				Message struct{ Content string }
			}
		}
		if err := e.Decode(&answer); err != nil || len(answer.Choices) != 1 {
			t.Fatalf("%s: %v %s", ticket, err, e.RawBody)
		}
		if e.State != obatch.QueueCompleted || !e.State.Ended() || e.StatusCode != 200 ||
			answer.Choices[0].Message.Content != "echo: "+ticket || e.Body["object"] != "chat.completion" ||
			e.ErrorCode != "" || !strings.HasPrefix(e.BatchID, "batch_") || e.Attempts != 1 ||
			e.SubmittedAt.Before(e.CreatedAt) || e.EndedAt.Before(e.SubmittedAt) {
			t.Errorf("%s: %+v", ticket, e)
		}
		batches[e.BatchID] = true
	}
	if len(batches) != 1 {
		t.Errorf("one flush, one batch: got %v", batches)
	}
	if n := len(s.stats(t)["batches"].([]any)); n != 1 {
		t.Errorf("the server has %d batches, want 1", n)
	}

	// Wait on a completed request returns at once.
	t0 := time.Now()
	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	done, err := q.Wait(waitCtx, tickets[19])
	cancel()
	if err != nil || done.State != obatch.QueueCompleted || time.Since(t0) > time.Second {
		t.Errorf("wait on a completed request: %v, %v, %v", done.State, err, time.Since(t0))
	}

	// Bad bodies are refused with the library's message, naming the field.
	_, err = q.Put(ctx, map[string]any{"model": "gpt-4o-mini", "messages": "hi"})
	wantQueueError(t, err, obatch.ErrRequest, "messages")
	_, err = q.Put(ctx, map[string]any{"messages": []map[string]string{{"role": "user", "content": "x"}}})
	wantQueueError(t, err, obatch.ErrRequest, "model")
	_, err = q.Put(ctx, `{"model": "gpt-4o-mini", "messages": `)
	wantQueueError(t, err, obatch.ErrJSON, "JSON")

	// An unknown ticket.
	_, err = q.Get(ctx, "obq_nosuch")
	wantQueueError(t, err, obatch.ErrNotFound, "obq_nosuch")
	shortCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	_, err = q.Wait(shortCtx, "obq_nosuch")
	cancel()
	wantQueueError(t, err, obatch.ErrNotFound, "obq_nosuch")

	// A client id is the ticket: the same request again is fine, another one is not.
	for i := 0; i < 2; i++ {
		if ticket, err := q.Put(ctx, chat("a"), obatch.ClientID("mine-1")); err != nil || ticket != "mine-1" {
			t.Fatalf("put with a client id: %q, %v", ticket, err)
		}
	}
	_, err = q.Put(ctx, chat("b"), obatch.ClientID("mine-1"))
	wantQueueError(t, err, obatch.ErrDuplicate, "mine-1", "unique")

	// A short wait on a queued request: the context's deadline is the timeout.
	t1 := time.Now()
	shortCtx, cancel = context.WithTimeout(ctx, 300*time.Millisecond)
	e, err := q.Wait(shortCtx, "mine-1")
	cancel()
	took := time.Since(t1)
	wantQueueError(t, err, obatch.ErrTimeout, "mine-1", "queued")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("%v does not unwrap to context.DeadlineExceeded", err)
	}
	if e.Ticket != "mine-1" || e.State != obatch.QueueQueued {
		t.Errorf("the entry with the timeout: %+v", e)
	}
	if took < 250*time.Millisecond || took > 5*time.Second {
		t.Errorf("a 300 ms wait took %v", took)
	}
	// A cancelled context: the wait returns within a slice.
	cancelCtx, cancel := context.WithCancel(ctx)
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	t2 := time.Now()
	_, err = q.Wait(cancelCtx, "mine-1")
	if !errors.Is(err, context.Canceled) || errors.Is(err, obatch.ErrTimeout) || time.Since(t2) > time.Second {
		t.Errorf("a cancelled wait: %v after %v", err, time.Since(t2))
	}

	// Nothing refused was stored.
	if stats, err = q.Stats(); err != nil || stats.Queued != 1 || stats.Completed != 19 || stats.Flushed != 0 {
		t.Errorf("stats at the end: %+v, %v", stats, err)
	}

	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	q.Close() // idempotent
	_, err = q.Get(ctx, tickets[0])
	wantQueueError(t, err, obatch.ErrInvalid, "closed")
}

func TestQueueSQLite(t *testing.T) {
	queueScenario(t, filepath.Join(t.TempDir(), "queue.db"))
}

func psql(t *testing.T, uri, sql string) {
	t.Helper()
	out, err := exec.Command("psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", uri, "-c", sql).CombinedOutput()
	if err != nil {
		t.Fatalf("psql %s: %v\n%s", sql, err, out)
	}
}

func TestQueuePostgres(t *testing.T) {
	pg := os.Getenv("OBATCH_TEST_PG_URI")
	if pg == "" {
		if os.Getenv("OBATCH_TEST_PG_REQUIRED") == "1" {
			t.Fatal("OBATCH_TEST_PG_REQUIRED=1 but OBATCH_TEST_PG_URI is not set")
		}
		t.Skip("no PostgreSQL server: set OBATCH_TEST_PG_URI (scripts/pg-test-server.sh starts one)")
	}
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	name := "obatch_go_" + hex.EncodeToString(b)
	psql(t, pg, "CREATE DATABASE "+name)
	t.Cleanup(func() { psql(t, pg, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	u, err := url.Parse(pg)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	queueScenario(t, u.String())
}

func TestQueueOpenErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// A store under a regular file: the library's own message names it.
	_, err := obatch.OpenQueue(filepath.Join(file, "queue.db"), obatch.WithProvider("openai"))
	wantQueueError(t, err, obatch.ErrIO, file)
	store := filepath.Join(dir, "q.db")
	_, err = obatch.OpenQueue(store, obatch.WithConfig("flush_age", "soon"))
	wantQueueError(t, err, obatch.ErrConfig, "flush_age", "soon")
	if _, err := os.Stat(store); !os.IsNotExist(err) {
		t.Errorf("a bad config made the store: %v", err)
	}
	_, err = obatch.OpenQueue(store, obatch.WithConfig("no_such_key", "1"))
	wantQueueError(t, err, obatch.ErrConfig)
	q, err := obatch.OpenQueue(store, obatch.WithProvider("openai"), obatch.WithAPIKey("k"),
		obatch.WithFlushRequests(5), obatch.WithLease(2*time.Second), obatch.WithMaxAttempts(2))
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	_, err = q.Get(context.Background(), "")
	wantQueueError(t, err, obatch.ErrInvalid)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := q.Put(ctx, chat("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("put with a cancelled context: %v", err)
	}
	if _, err := q.Work(ctx, time.Second); !errors.Is(err, context.Canceled) {
		t.Errorf("work with a cancelled context: %v", err)
	}
}
