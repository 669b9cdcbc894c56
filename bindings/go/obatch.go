// Package obatch runs OpenAI-style Batch API jobs from Go: add requests,
// submit, wait, read every result by custom_id, at half the price of normal
// requests. It wraps libobatch's C API (through a SWIG-generated internal
// layer); all network I/O runs on the library's own thread.
//
//	b, err := obatch.New(obatch.WithProvider("openai"))
//	if err != nil { ... }
//	defer b.Close()
//	id, err := b.Add(map[string]any{"model": "gpt-4o-mini", "messages": msgs}, obatch.CustomID("q1"))
//	b.Submit(ctx)
//	info, err := b.Wait(ctx, func(i obatch.Info) { fmt.Println(i.Phase, i.RequestsCompleted) })
//	for r, err := range b.Results() { ... r.CustomID, r.Body ... }
//
// A *Batch is safe for use by several goroutines (calls are serialised), but
// each call holds the handle only briefly: Wait polls in short slices.
package obatch

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/obatch/obatch/bindings/go/raw"
)

// Version is the version of the libobatch loaded at run time ("0.1.0").
func Version() string { return raw.Obatch_version() }

// VersionNumber is that version as one number, major*10000 + minor*100 +
// patch (obatch_version_number): compare it with a minimum you need.
func VersionNumber() uint { return raw.Obatch_version_number() }

// ---- options ---------------------------------------------------------------

// Option sets one configuration key of a batch (or of a List / Resume call).
type Option func(*config)

type config struct {
	pairs  [][2]string
	prices string // EstimateFile's price table (WithPrices); not a config key
	model  string // Add's default model (WithModel); not a config key
}

// get is the last value set for key, or fallback.
func (c *config) get(key, fallback string) string {
	for i := len(c.pairs) - 1; i >= 0; i-- {
		if c.pairs[i][0] == key {
			return c.pairs[i][1]
		}
	}
	return fallback
}

func parseOptions(opts []Option) config {
	var c config
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

func (c *config) set(key, value string) { c.pairs = append(c.pairs, [2]string{key, value}) }

// WithProvider chooses the provider: "openai", "parasail", a registered
// name, or "" (the default: chosen from the first request's model).
func WithProvider(name string) Option { return func(c *config) { c.set("provider", name) } }

// WithBaseURL sets the API base, e.g. "http://127.0.0.1:8080/v1" (default:
// the provider's *_BASE_URL variable, else its public URL). Plain http:// is
// accepted only for loopback hosts.
func WithBaseURL(url string) Option { return func(c *config) { c.set("base_url", url) } }

// WithAPIKey sets the key (default: the provider's own variable, e.g.
// OPENAI_API_KEY). Needs WithProvider. Never logged, never in an error.
func WithAPIKey(key string) Option { return func(c *config) { c.set("api_key", key) } }

// WithEndpoint fixes the batch endpoint, e.g. "/v1/embeddings" (default:
// inferred from the requests).
func WithEndpoint(endpoint string) Option { return func(c *config) { c.set("endpoint", endpoint) } }

// WithMetadata adds a metadata pair sent with the batch (at most 15 are yours).
func WithMetadata(key, value string) Option {
	return func(c *config) { c.set("metadata."+key, value) }
}

// WithModel sets the model of the map[string]any bodies given to Add that
// name none (as Node's and Ruby's `model` option). It is not sent as a
// config key.
func WithModel(model string) Option { return func(c *config) { c.model = model } }

// WithWorkDir sets where the input and result files are kept (default: a
// new private directory under $TMPDIR).
func WithWorkDir(dir string) Option { return func(c *config) { c.set("work_dir", dir) } }

// WithResultsDir sets where the result files go (created if missing).
func WithResultsDir(dir string) Option { return func(c *config) { c.set("results_dir", dir) } }

// WithPollInterval sets the first and shortest and the longest wait between
// status checks (defaults 1 s and 60 s). A zero value keeps the default.
func WithPollInterval(min, max time.Duration) Option {
	return func(c *config) {
		if min > 0 {
			c.set("poll_interval_ms", strconv.FormatInt(min.Milliseconds(), 10))
		}
		if max > 0 {
			c.set("poll_max_interval_ms", strconv.FormatInt(max.Milliseconds(), 10))
		}
	}
}

// WithConfig sets any configuration key of the C API by name (see
// obatch_config_set in obatch.h: completion_window, custom_id_prefix,
// max_retries, max_requests, output_path, ...).
func WithConfig(key, value string) Option { return func(c *config) { c.set(key, value) } }

// newConfig builds an obatch_config_t; the caller destroys it.
func newConfig(opts []Option) (uintptr, error) {
	c := parseOptions(opts)
	var h uintptr
	if rc := raw.Obatch_config_new(&h); rc < 0 || h == 0 {
		return 0, newError(rc, "config", "")
	}
	errbuf := make([]byte, 512)
	for _, kv := range c.pairs {
		op := "config " + kv[0]
		if hasNUL(kv[0]) || hasNUL(kv[1]) {
			raw.Obatch_config_destroy(h)
			return 0, &Error{Code: CodeConfig, Op: op, Message: "a NUL byte in the key or value"}
		}
		if rc := raw.Obatch_config_set(h, kv[0], kv[1], errbuf); rc < 0 {
			raw.Obatch_config_destroy(h)
			return 0, newError(rc, op, cString(errbuf))
		}
	}
	return h, nil
}

// ---- the batch -------------------------------------------------------------

// Batch is one batch (an obatch_t handle). Close it when done; a batch
// that is running at the provider keeps running there (Resume it by id).
// A cleanup frees a Batch that was dropped without Close, as a safety net.
type Batch struct {
	mu      sync.Mutex
	c       *handle // nil once closed
	cleanup runtime.Cleanup
	model   string // WithModel: the model of map bodies that name none
	prefix  string // custom_id_prefix: how Add names a request without an id
}

// handle is the C memory of a Batch, apart from the Batch so that the
// cleanup can free it after the Batch is unreachable.
type handle struct {
	h    uintptr // obatch_t *
	info raw.Obatch_info_t
	res  raw.Obatch_result_t
}

// live counts the handles not freed yet (for the leak test).
var live atomic.Int64

func (c *handle) free() {
	if c.h != 0 {
		live.Add(-1)
	}
	raw.Obatch_destroy(c.h) // the one destroy of the handle
	raw.DeleteObatch_info_t(c.info)
	raw.DeleteObatch_result_t(c.res)
	*c = handle{}
}

func wrap(h uintptr) (*Batch, error) {
	c := &handle{h: h, info: raw.NewObatch_info_t(), res: raw.NewObatch_result_t()}
	if c.info.Swigcptr() == 0 || c.res.Swigcptr() == 0 {
		c.free()
		return nil, &Error{Code: CodeNoMemory, Op: "new"}
	}
	live.Add(1)
	b := &Batch{c: c}
	b.cleanup = runtime.AddCleanup(b, func(c *handle) { c.free() }, c)
	return b, nil
}

// construct makes a Batch with one of the C constructors: `call` gets the
// config built from opts, the out-handle and the buffer for its message.
func construct(op string, opts []Option, call func(conf uintptr, h *uintptr, errbuf []byte) int) (*Batch, error) {
	conf, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	defer raw.Obatch_config_destroy(conf)
	var h uintptr
	errbuf := make([]byte, errbufSize)
	if rc := call(conf, &h, errbuf); rc < 0 || h == 0 {
		return nil, newError(rc, op, cString(errbuf))
	}
	b, err := wrap(h)
	if err != nil {
		return nil, err
	}
	c := parseOptions(opts)
	b.model = c.model
	b.prefix = c.get("custom_id_prefix", "request")
	return b, nil
}

// New creates a batch that accepts requests (phase Building).
func New(opts ...Option) (*Batch, error) {
	return construct("new", opts, func(conf uintptr, h *uintptr, errbuf []byte) int {
		return raw.Obatch_create(h, conf, errbuf)
	})
}

// Resume attaches to a batch that already exists at the provider (submitted
// by this or another process). It starts in phase Waiting; Wait downloads
// the results when the batch ends. WithProvider is required.
func Resume(ctx context.Context, batchID string, opts ...Option) (*Batch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if batchID == "" || hasNUL(batchID) {
		return nil, &Error{Code: CodeInvalid, Op: "resume", Message: "a batch id is required"}
	}
	return construct("resume "+batchID, opts, func(conf uintptr, h *uintptr, errbuf []byte) int {
		return raw.Obatch_resume(h, conf, batchID, errbuf)
	})
}

// handle returns the live handle or ErrInvalid after Close; b.mu is held.
func (b *Batch) handle(op string) (*handle, error) {
	if b == nil || b.c == nil {
		return nil, &Error{Code: CodeInvalid, Op: op, Message: "the batch is closed"}
	}
	return b.c, nil
}

// call runs one C call that returns a status code, under the lock, and
// turns a failure into an *Error with obatch_last_error's message.
func (b *Batch) call(op string, f func(h uintptr) int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, err := b.handle(op)
	if err != nil {
		return err
	}
	if rc := f(c.h); rc < 0 {
		return newError(rc, op, raw.Obatch_last_error(c.h))
	}
	return nil
}

// Raw runs f with the batch's C handle (an obatch_t *) for a call of the
// package raw (the C API one to one) that this package does not wrap. The
// handle is locked while f runs and must not be kept or destroyed; f's
// negative status becomes an *Error with obatch_last_error's message.
func (b *Batch) Raw(op string, f func(h uintptr) int) error { return b.call(op, f) }

// AddOption qualifies one request given to Add.
type AddOption func(*addOptions)

type addOptions struct{ customID, endpoint string }

// CustomID names the request (at most 512 bytes, unique in the batch).
// Without it the request is called "<custom_id_prefix>-N" ("request-1", ...)
// with N its 1-based position.
func CustomID(id string) AddOption { return func(o *addOptions) { o.customID = id } }

// Endpoint sets the request's endpoint ("/v1/chat/completions", ...);
// without it, it comes from the config or is inferred from the body.
func Endpoint(endpoint string) AddOption { return func(o *addOptions) { o.endpoint = endpoint } }

// jsonText turns a request body into JSON text: []byte, json.RawMessage and
// string are taken as JSON text as they are; anything else (a map, a
// struct) is encoded with encoding/json (HTML characters left unescaped).
func jsonText(op string, v any) (string, error) {
	var s string
	switch x := v.(type) {
	case nil:
		return "", &Error{Code: CodeJSON, Op: op, Message: "the body is nil"}
	case json.RawMessage:
		s = string(x)
	case []byte:
		s = string(x)
	case string:
		s = x
	default:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return "", &Error{Code: CodeJSON, Op: op, Message: err.Error(), cause: err}
		}
		s = strings.TrimSuffix(buf.String(), "\n")
	}
	if hasNUL(s) {
		return "", &Error{Code: CodeJSON, Op: op, Message: "the JSON text contains a NUL byte"}
	}
	return s, nil
}

// Add appends one request and returns its custom_id: the CustomID given,
// or the one made for it, "<custom_id_prefix>-N" ("request-1", ...) with N
// its 1-based position. body is the request body: a map or struct (encoded
// as JSON), or JSON text as []byte, json.RawMessage or string; a
// map[string]any without a "model" gets WithModel's. The request is checked
// at once (JSON, custom_id, endpoint, model, the provider's limits); on
// failure nothing is added and the error says why (errors.Is(err, ErrJSON),
// ErrLimit, ErrDuplicate, ...).
func (b *Batch) Add(body any, opts ...AddOption) (string, error) {
	if m, ok := body.(map[string]any); ok && b != nil && b.model != "" {
		if v, named := m["model"]; !named || v == nil {
			with := make(map[string]any, len(m)+1)
			for k, v := range m {
				with[k] = v
			}
			with["model"] = b.model
			body = with
		}
	}
	text, err := jsonText("add", body)
	if err != nil {
		return "", err
	}
	var o addOptions
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	if hasNUL(o.customID) || hasNUL(o.endpoint) {
		return "", &Error{Code: CodeInvalid, Op: "add", Message: "a NUL byte in custom_id or endpoint"}
	}
	op := "add"
	if o.customID != "" {
		op = "add " + o.customID
	}
	id := o.customID
	// "" crosses as NULL: an automatic custom_id, an inferred endpoint.
	err = b.call(op, func(h uintptr) int {
		rc := raw.Obatch_add(h, text, o.customID, o.endpoint)
		if rc == 0 && id == "" {
			// The request just added is the last one: its position names it.
			if rc = raw.Obatch_info(h, b.c.info); rc == 0 {
				id = b.prefix + "-" + strconv.FormatUint(b.c.info.GetRequests_added(), 10)
			}
		}
		return rc
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// AddMany appends one request per line of bodies (JSONL: one JSON body per
// line, the last newline optional), each with Add's checks, a generated
// custom_id and the endpoint inferred (or the config's), all or nothing:
// on the first bad body nothing of the call is added and the error names
// its line ("line 7: ..."). Parsed as one document stream, it is much
// faster than one Add per body. Returns how many requests it added.
func (b *Batch) AddMany(bodies []byte) (int, error) {
	var added uint64
	text := ""
	if len(bodies) > 0 {
		// Read in place for the length of the call: C never keeps it.
		text = unsafe.String(&bodies[0], len(bodies))
	}
	err := b.call("add many", func(h uintptr) int {
		return raw.Obatch_add_many(h, text, "", &added)
	})
	runtime.KeepAlive(bodies)
	if err != nil {
		return 0, err
	}
	return int(added), nil
}

// AddLine appends one complete input line: {"custom_id","method","url","body"},
// as JSON text or as a value to encode.
func (b *Batch) AddLine(line any) error {
	text, err := jsonText("add line", line)
	if err != nil {
		return err
	}
	return b.call("add line", func(h uintptr) int { return raw.Obatch_add_line(h, text) })
}

// AddFile appends every line of a JSONL file, all or nothing.
func (b *Batch) AddFile(path string) error {
	if hasNUL(path) {
		return &Error{Code: CodeInvalid, Op: "add file", Message: "a NUL byte in the path"}
	}
	return b.call("add file", func(h uintptr) int { return raw.Obatch_add_file(h, path) })
}

// Submit queues the upload and the creation of the batch and returns at
// once; the library's own thread does the work. ctx is only checked first.
func (b *Batch) Submit(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return b.call("submit", raw.Obatch_submit)
}

// Cancel asks the provider to cancel the batch; results finished before
// are still downloaded, and Wait then ends with ErrCancelled.
func (b *Batch) Cancel() error { return b.call("cancel", raw.Obatch_cancel) }

// Info returns a snapshot of the batch without waiting.
func (b *Batch) Info() (Info, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, err := b.handle("info")
	if err != nil {
		return Info{}, err
	}
	if rc := raw.Obatch_info(c.h, c.info); rc < 0 {
		return Info{}, newError(rc, "info", raw.Obatch_last_error(c.h))
	}
	return readInfo(c.info), nil
}

// Parts returns the batches of the job ("parts") in input order, as of
// now: an input over the provider's limits of one batch (or
// WithConfig("max_requests", ...)) runs as several. A job of one batch has
// one part, the job itself; before Submit there are none.
func (b *Batch) Parts() ([]PartInfo, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, err := b.handle("parts")
	if err != nil {
		return nil, err
	}
	if rc := raw.Obatch_info(c.h, c.info); rc < 0 { // the parts as of now
		return nil, newError(rc, "parts", raw.Obatch_last_error(c.h))
	}
	parts, rc := readParts(c.info, func(i uint64, ci raw.Obatch_info_t) int {
		return raw.Obatch_part_info(c.h, i, ci)
	})
	if rc < 0 {
		return nil, newError(rc, "parts", raw.Obatch_last_error(c.h))
	}
	return parts, nil
}

// Poll waits at most timeout for the batch to make progress (0: never
// blocks) and returns a snapshot. The batch's own failure is in
// Info.Phase / Info.ErrorCode, not in the error.
func (b *Batch) Poll(timeout time.Duration) (Info, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, err := b.handle("poll")
	if err != nil {
		return Info{}, err
	}
	if rc := raw.Obatch_poll(c.h, clampMillis(timeout), c.info); rc < 0 {
		return Info{}, newError(rc, "poll", raw.Obatch_last_error(c.h))
	}
	return readInfo(c.info), nil
}

// waitTick is how often Wait looks at the batch. Each look holds the handle
// only for a non-blocking check (obatch_wait with no time), so Info and the
// other methods are never kept waiting by a Wait on another goroutine, and
// ctx ends Wait at once.
const waitTick = 50 * time.Millisecond

// Wait blocks until the batch ends or ctx is done, calling progress (if not
// nil) on the caller's goroutine with every snapshot that differs from the
// one before (the first and the last included).
//
// It returns nil when the batch completed; ErrExpired or ErrCancelled when
// it ended so (the finished results can still be read); ErrFailed or the
// error that stopped it. When ctx is done it returns ctx.Err() wrapped
// (errors.Is(err, context.Canceled)): the batch goes on at the provider.
func (b *Batch) Wait(ctx context.Context, progress func(Info)) (Info, error) {
	var last Info
	first := true
	tick := time.NewTicker(waitTick)
	defer tick.Stop()
	for {
		if err := ctx.Err(); err != nil {
			return last, &waitError{err}
		}
		info, rc, msg, err := b.waitCheck()
		if err != nil {
			return last, err
		}
		if progress != nil && (first || info.progress() != last.progress()) {
			progress(info)
		}
		first = false
		last = info
		switch {
		case rc == int(CodeOK):
			return info, nil
		case rc != int(CodeTimeout):
			return info, newError(rc, "wait", msg)
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
}

// waitCheck asks, without waiting, whether the batch has ended (ETIMEOUT:
// not yet), under the lock.
func (b *Batch) waitCheck() (Info, int, string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, err := b.handle("wait")
	if err != nil {
		return Info{}, 0, "", err
	}
	rc := raw.Obatch_wait(c.h, 0, c.info)
	var msg string
	if rc < 0 && rc != int(CodeTimeout) {
		msg = raw.Obatch_last_error(c.h)
	}
	if rc == int(CodeState) || rc == int(CodeInvalid) {
		return Info{}, rc, msg, newError(rc, "wait", msg) // the info was not filled
	}
	return readInfo(c.info), rc, msg, nil
}

// waitError is Wait's answer to a done context.
type waitError struct{ err error }

func (e *waitError) Error() string {
	return "obatch: wait: " + e.err.Error() + " (the batch goes on at the provider)"
}
func (e *waitError) Unwrap() error { return e.err }

func clampMillis(d time.Duration) int {
	ms := d.Milliseconds()
	if ms < 0 {
		return 0
	}
	if ms > 1<<30 {
		return 1 << 30
	}
	return int(ms)
}

// InputPath is the path of the local input file (JSONL).
func (b *Batch) InputPath() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.c == nil {
		return ""
	}
	return raw.Obatch_input_path(b.c.h)
}

// Close frees the handle. It may be called more than once. A batch running
// at the provider keeps running there.
func (b *Batch) Close() error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.c != nil {
		b.cleanup.Stop()
		b.c.free()
		b.c = nil
	}
	return nil
}
