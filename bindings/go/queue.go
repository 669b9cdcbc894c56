package obatch

import (
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/obatch/obatch/bindings/go/raw"
)

// Deferred requests: put one request now and get a ticket, ask for its
// answer later. Workers (Queue.Work in a loop, in this process or any other
// sharing the store) collect the queued requests into batches at half the
// price and store every answer. The store is a SQLite file (one machine;
// several processes may share it) or a PostgreSQL database
// ("postgresql://..."), shared by any number of workers on any number of
// machines.
//
// The C queue keeps the strings it returns (a ticket, an entry's fields, its
// last error) in the calling thread's storage until that thread's next
// queue call, so every call here runs with the goroutine locked to its OS
// thread until they are copied into Go memory.

// WithFlushRequests makes a batch once this many requests are queued
// (default 10000).
func WithFlushRequests(n int) Option {
	return func(c *config) { c.set("flush_requests", strconv.Itoa(n)) }
}

// WithFlushBytes makes a batch once the queued requests' input lines reach
// this many bytes (default 100 MB).
func WithFlushBytes(n int64) Option {
	return func(c *config) { c.set("flush_bytes", strconv.FormatInt(n, 10)) }
}

// WithFlushAge makes a batch once the oldest queued request has waited this
// long (default 10 minutes).
func WithFlushAge(d time.Duration) Option {
	return func(c *config) { c.set("flush_age", d.String()) }
}

// WithLease sets how long a worker's claim on a batch lasts without being
// renewed (default 2 minutes; at least 1 s). A worker renews it at every
// Work; another worker takes the batch over after it.
func WithLease(d time.Duration) Option { return func(c *config) { c.set("lease", d.String()) } }

// WithRetention sets how long ended requests are kept (default 168 hours).
func WithRetention(d time.Duration) Option {
	return func(c *config) { c.set("retention", d.String()) }
}

// WithMaxAttempts sets in how many batches a request is sent before it is
// QueueExpired (default 3): one whose batch expired or was cancelled before
// it had a result is queued again until then.
func WithMaxAttempts(n int) Option {
	return func(c *config) { c.set("max_attempts", strconv.Itoa(n)) }
}

// QueueState is where a queued request is (obatch_queue_state).
type QueueState int

const (
	QueueQueued    QueueState = 1 // stored, waiting for a flush
	QueueSubmitted QueueState = 2 // in a batch that runs
	QueueCompleted QueueState = 3 // answered 2xx: Body holds the answer
	QueueFailed    QueueState = 4 // answered with an error, or its batch failed
	QueueExpired   QueueState = 5 // no result after max_attempts batches
)

var queueStateNames = [...]string{"", "queued", "submitted", "completed", "failed", "expired"}

func (s QueueState) String() string {
	if s > 0 && int(s) < len(queueStateNames) {
		return queueStateNames[s]
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

// Ended reports a state after which nothing changes any more.
func (s QueueState) Ended() bool {
	return s == QueueCompleted || s == QueueFailed || s == QueueExpired
}

// QueueEntry is a queued request (obatch_queue_entry_t), copied into Go
// memory. Times are zero when not yet.
type QueueEntry struct {
	Ticket       string
	State        QueueState
	Provider     string
	Endpoint     string
	Model        string
	StatusCode   int             // the answer's HTTP status; 0 when none yet
	Body         map[string]any  // the answer's body, parsed; nil when none
	RawBody      json.RawMessage // the answer's body as JSON text; nil when none
	ErrorCode    string          // why it failed or expired ("batch_expired", ...); "" when not
	ErrorMessage string
	BatchID      string // the batch it was (last) sent in; "" before
	Attempts     uint32 // batches it was sent in
	CreatedAt    time.Time
	SubmittedAt  time.Time
	EndedAt      time.Time
}

// Decode unmarshals the answer's body into v (a struct of your own).
func (e *QueueEntry) Decode(v any) error {
	if e.RawBody == nil {
		return &Error{Code: CodeNotFound, Op: "decode " + e.Ticket, Message: "the request has no answer yet (" + e.State.String() + ")"}
	}
	return json.Unmarshal(e.RawBody, v)
}

// QueueStats are the store's counts, and what one Work step did (zero from
// Stats).
type QueueStats struct {
	Queued, Submitted, Completed, Failed, Expired uint64
	BatchesRunning                                uint64    // by any worker
	OldestQueued                                  time.Time // zero when nothing is queued
	Flushed                                       uint64    // requests put into new batches
	Stored                                        uint64    // answers stored
	Requeued                                      uint64    // requests of expired / cancelled batches queued again
	TakenOver                                     uint64    // batches taken over from a worker that stopped
	Pruned                                        uint64    // ended requests removed after the retention
	Held                                          uint64    // batches this handle runs now
}

func unixMilli(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// readQueueEntry copies a filled entry; on the thread that filled it.
func readQueueEntry(ce raw.Obatch_queue_entry_t) QueueEntry {
	e := QueueEntry{
		Ticket:       ce.GetTicket(),
		State:        QueueState(ce.GetState()),
		Provider:     ce.GetProvider(),
		Endpoint:     ce.GetEndpoint(),
		Model:        ce.GetModel(),
		StatusCode:   ce.GetStatus_code(),
		ErrorCode:    ce.GetError_code(),
		ErrorMessage: ce.GetError_message(),
		BatchID:      ce.GetBatch_id(),
		Attempts:     uint32(ce.GetAttempts()),
		CreatedAt:    unixMilli(ce.GetCreated_ms()),
		SubmittedAt:  unixMilli(ce.GetSubmitted_ms()),
		EndedAt:      unixMilli(ce.GetEnded_ms()),
	}
	if body := ce.GetBody(); body != "" {
		e.RawBody = json.RawMessage(body)
		var m map[string]any
		if json.Unmarshal(e.RawBody, &m) == nil {
			e.Body = m
		}
	}
	return e
}

func readQueueStats(cs raw.Obatch_queue_stats_t) QueueStats {
	return QueueStats{
		Queued:         cs.GetQueued(),
		Submitted:      cs.GetSubmitted(),
		Completed:      cs.GetCompleted(),
		Failed:         cs.GetFailed(),
		Expired:        cs.GetExpired(),
		BatchesRunning: cs.GetBatches_running(),
		OldestQueued:   unixMilli(cs.GetOldest_queued_ms()),
		Flushed:        cs.GetFlushed(),
		Stored:         cs.GetStored(),
		Requeued:       cs.GetRequeued(),
		TakenOver:      cs.GetTaken_over(),
		Pruned:         cs.GetPruned(),
		Held:           cs.GetHeld(),
	}
}

// onThread runs f with the goroutine locked to its OS thread: a C queue
// call and the reading of what it left in the thread's storage.
func onThread(f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	f()
}

// Queue is a queue of deferred requests (an obatch_queue_t handle). It may
// be used from many goroutines at once. Close it when done; a cleanup
// closes a Queue that was dropped without Close, as a safety net.
type Queue struct {
	mu      sync.RWMutex // calls share it; Close takes it alone
	c       *queueHandle // nil once closed
	store   string
	cleanup runtime.Cleanup
}

type queueHandle struct{ h uintptr }

func (c *queueHandle) close() {
	raw.Obatch_queue_close(c.h) // the one close of the handle
	c.h = 0
}

// OpenQueue opens (creates, or migrates) the queue in store: a SQLite file
// or a "postgresql://" URI; "" is the default ($OBATCH_QUEUE, else
// $XDG_STATE_HOME/obatch/queue.db). The options are those of a batch
// (WithProvider, WithBaseURL, WithAPIKey, WithWorkDir, WithState, ...) and
// the queue's own: WithFlushRequests, WithFlushBytes, WithFlushAge,
// WithLease, WithRetention, WithMaxAttempts.
func OpenQueue(store string, opts ...Option) (*Queue, error) {
	if hasNUL(store) {
		return nil, &Error{Code: CodeInvalid, Op: "queue open", Message: "a NUL byte in the store"}
	}
	conf, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	defer raw.Obatch_config_destroy(conf)
	var h uintptr
	var rc int
	var msg string
	onThread(func() {
		rc = raw.Obatch_queue_open(&h, conf, store)
		if rc < 0 {
			msg = raw.Obatch_queue_last_error(0)
		}
	})
	if rc < 0 || h == 0 {
		if h != 0 {
			raw.Obatch_queue_close(h)
		}
		return nil, newError(rc, "queue open", msg)
	}
	c := &queueHandle{h: h}
	q := &Queue{c: c, store: store}
	q.cleanup = runtime.AddCleanup(q, func(c *queueHandle) { c.close() }, c)
	return q, nil
}

// Store is the store given to OpenQueue ("" for the default one).
func (q *Queue) Store() string { return q.store }

// call runs f on the live handle, on one thread, with the read lock held;
// a failure becomes an *Error with the thread's message.
func (q *Queue) call(op string, f func(h uintptr) int) error {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.c == nil {
		return &Error{Code: CodeInvalid, Op: op, Message: "the queue is closed"}
	}
	var rc int
	var msg string
	onThread(func() {
		rc = f(q.c.h)
		if rc < 0 {
			msg = raw.Obatch_queue_last_error(q.c.h)
		}
	})
	if rc < 0 {
		return newError(rc, op, msg)
	}
	return nil
}

// PutOption qualifies one request given to Put.
type PutOption func(*putOptions)

type putOptions struct{ clientID, endpoint string }

// ClientID makes id the request's ticket (at most 512 bytes). It must be
// unique: put again with another request it is ErrDuplicate. Without it the
// ticket comes from the request itself.
func ClientID(id string) PutOption { return func(o *putOptions) { o.clientID = id } }

// PutEndpoint sets the request's endpoint ("/v1/embeddings", ...); without
// it, it comes from the config or is inferred from the body.
func PutEndpoint(endpoint string) PutOption { return func(o *putOptions) { o.endpoint = endpoint } }

// Put checks one request exactly as Batch.Add does and stores it; it is
// durable when Put returns. body is a map or struct (encoded as JSON), or
// JSON text as []byte, json.RawMessage or string. It returns the ticket:
// without ClientID one derived from the request (provider, endpoint,
// canonical body), so the same request put again gets the same ticket and
// is stored and paid for once. A refused request is an *Error naming the
// field (ErrJSON, ErrRequest, ErrLimit, ...) and nothing is stored. ctx is
// checked first (a put in progress is bounded by the store).
func (q *Queue) Put(ctx context.Context, body any, opts ...PutOption) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	text, err := jsonText("queue put", body)
	if err != nil {
		return "", err
	}
	var o putOptions
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	if hasNUL(o.clientID) || hasNUL(o.endpoint) {
		return "", &Error{Code: CodeInvalid, Op: "queue put", Message: "a NUL byte in the client id or endpoint"}
	}
	op := "queue put"
	if o.clientID != "" {
		op += " " + o.clientID
	}
	buf := make([]byte, 1024)
	// "" crosses as NULL: a derived ticket, an inferred endpoint.
	err = q.call(op, func(h uintptr) int { return raw.Obatch_queue_put(h, o.endpoint, text, o.clientID, buf) })
	if err != nil {
		return "", err
	}
	return cString(buf), nil
}

// entryCall runs a call that fills an entry, and copies it. rc is the
// call's own (also ErrTimeout, with the entry filled).
func (q *Queue) entryCall(op string, f func(h uintptr, ce raw.Obatch_queue_entry_t) int) (QueueEntry, int, string, error) {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.c == nil {
		return QueueEntry{}, 0, "", &Error{Code: CodeInvalid, Op: op, Message: "the queue is closed"}
	}
	ce := raw.NewObatch_queue_entry_t()
	if ce.Swigcptr() == 0 {
		return QueueEntry{}, 0, "", &Error{Code: CodeNoMemory, Op: op}
	}
	defer raw.DeleteObatch_queue_entry_t(ce)
	var e QueueEntry
	var rc int
	var msg string
	onThread(func() {
		rc = f(q.c.h, ce)
		if rc == int(CodeOK) || rc == int(CodeTimeout) {
			e = readQueueEntry(ce)
		}
		if rc < 0 {
			msg = raw.Obatch_queue_last_error(q.c.h)
		}
	})
	return e, rc, msg, nil
}

func checkTicket(op, ticket string) error {
	if ticket == "" || hasNUL(ticket) {
		return &Error{Code: CodeInvalid, Op: op, Message: "a ticket is required (and has no NUL byte)"}
	}
	return nil
}

// Get returns the request's state and, once it ended, its answer. It never
// waits for the request; ErrNotFound for a ticket the queue does not have.
func (q *Queue) Get(ctx context.Context, ticket string) (QueueEntry, error) {
	if err := ctx.Err(); err != nil {
		return QueueEntry{}, err
	}
	op := "queue get " + ticket
	if err := checkTicket(op, ticket); err != nil {
		return QueueEntry{}, err
	}
	e, rc, msg, err := q.entryCall(op, func(h uintptr, ce raw.Obatch_queue_entry_t) int {
		return raw.Obatch_queue_get(h, ticket, ce)
	})
	if err != nil {
		return QueueEntry{}, err
	}
	if rc < 0 {
		return QueueEntry{}, newError(rc, op, msg)
	}
	return e, nil
}

// queueSlice is how long one C call of Wait or Work may hold the calling
// thread; ctx is checked between slices.
const queueSlice = 200 * time.Millisecond

// sliceOf is the next slice of a call that may wait until ctx's deadline
// and until `until` (zero: no limit of its own).
func sliceOf(ctx context.Context, until time.Time) time.Duration {
	slice := queueSlice
	for _, d := range []time.Time{until, deadlineOf(ctx)} {
		if d.IsZero() {
			continue
		}
		if left := time.Until(d); left < slice {
			slice = max(left, 0)
		}
	}
	return slice
}

func deadlineOf(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}

// Wait blocks until the request has ended (QueueCompleted, QueueFailed or
// QueueExpired) or ctx is done. PostgreSQL wakes it when the answer is
// stored; SQLite is polled. It waits in slices of at most 200 ms and checks
// ctx between them. When ctx's deadline passes first it returns the entry
// as it is and an *Error with code ErrTimeout that also unwraps to
// context.DeadlineExceeded; when ctx is cancelled, the entry and an error
// that unwraps to context.Canceled.
func (q *Queue) Wait(ctx context.Context, ticket string) (QueueEntry, error) {
	op := "queue wait " + ticket
	if err := checkTicket(op, ticket); err != nil {
		return QueueEntry{}, err
	}
	var last QueueEntry
	msg := "the request " + ticket + " has not ended"
	for {
		err := ctx.Err()
		if d, ok := ctx.Deadline(); ok && err == nil && !time.Now().Before(d) {
			err = context.DeadlineExceeded // its timer has not fired yet
		}
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return last, &Error{Code: CodeTimeout, Op: op, Message: msg, cause: err}
			}
			return last, &queueWaitError{ticket: ticket, err: err}
		}
		slice := sliceOf(ctx, time.Time{})
		e, rc, m, err := q.entryCall(op, func(h uintptr, ce raw.Obatch_queue_entry_t) int {
			return raw.Obatch_queue_wait(h, ticket, clampMillis(slice), ce)
		})
		if err != nil {
			return last, err
		}
		switch rc {
		case int(CodeOK):
			return e, nil
		case int(CodeTimeout):
			last, msg = e, m
		default:
			return e, newError(rc, op, m)
		}
	}
}

// queueWaitError is Wait's answer to a cancelled context.
type queueWaitError struct {
	ticket string
	err    error
}

func (e *queueWaitError) Error() string {
	return "obatch: queue wait " + e.ticket + ": " + e.err.Error() + " (the request stays in the queue)"
}
func (e *queueWaitError) Unwrap() error { return e.err }

// Work runs the worker: it renews this handle's leases, stores the answers
// of its batches that ended (and queues again the requests an expired or
// cancelled batch left without one), takes over the batches of workers
// whose lease ran out, makes and submits a batch for every flush rule that
// fires, and removes ended requests older than the retention. When there
// was nothing to do it waits up to timeout (and ctx) for something, in
// slices of at most 200 ms. It returns the store's counts and what it did
// (Flushed, Stored, Requeued, TakenOver, Pruned, summed over its slices).
// Call it in a loop:
//
//	for ctx.Err() == nil {
//		if _, err := q.Work(ctx, time.Second); err != nil && ctx.Err() == nil {
//			log.Print(err)
//		}
//	}
//
// When ctx is done it returns ctx.Err(). Close gives the batches this
// handle runs up to the other workers at once.
func (q *Queue) Work(ctx context.Context, timeout time.Duration) (QueueStats, error) {
	until := time.Now().Add(max(timeout, 0))
	var done QueueStats
	cs := raw.NewObatch_queue_stats_t()
	if cs.Swigcptr() == 0 {
		return QueueStats{}, &Error{Code: CodeNoMemory, Op: "queue work"}
	}
	defer raw.DeleteObatch_queue_stats_t(cs)
	for {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		slice := sliceOf(ctx, until)
		if err := q.call("queue work", func(h uintptr) int {
			return raw.Obatch_queue_work(h, clampMillis(slice), cs)
		}); err != nil {
			return done, err
		}
		st := readQueueStats(cs)
		st.Flushed += done.Flushed
		st.Stored += done.Stored
		st.Requeued += done.Requeued
		st.TakenOver += done.TakenOver
		st.Pruned += done.Pruned
		done = st
		if done.Flushed+done.Stored+done.Requeued+done.TakenOver > 0 || !time.Now().Before(until) {
			return done, nil
		}
	}
}

// Stats returns the store's counts by state, the batches running and the
// oldest queued request.
func (q *Queue) Stats() (QueueStats, error) {
	cs := raw.NewObatch_queue_stats_t()
	if cs.Swigcptr() == 0 {
		return QueueStats{}, &Error{Code: CodeNoMemory, Op: "queue stats"}
	}
	defer raw.DeleteObatch_queue_stats_t(cs)
	if err := q.call("queue stats", func(h uintptr) int { return raw.Obatch_queue_stats(h, cs) }); err != nil {
		return QueueStats{}, err
	}
	return readQueueStats(cs), nil
}

// Close closes the queue after the calls in flight (at most a slice of a
// Wait or Work) and gives the batches this handle runs up to the other
// workers at once (they run on at the provider). It may be called more than
// once; later calls on the queue fail with ErrInvalid.
func (q *Queue) Close() error {
	if q == nil {
		return nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.c != nil {
		q.cleanup.Stop()
		q.c.close()
		q.c = nil
	}
	return nil
}
