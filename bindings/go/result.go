package obatch

import (
	"encoding/json"
	"iter"
	"math"
	"strconv"

	"github.com/obatch/obatch/bindings/go/raw"
)

// ResultKind says how a request ended (obatch_result_kind).
type ResultKind int

const (
	Succeeded ResultKind = 0 // an HTTP 2xx response
	HTTPError ResultKind = 1 // an HTTP error response (the body has the error)
	Failed    ResultKind = 2 // failed without an HTTP response
	Missing   ResultKind = 3 // no result at all: the batch expired or was cancelled
)

var kindNames = [...]string{"succeeded", "http_error", "error", "missing"}

func (k ResultKind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Result is the outcome of one request, copied into Go memory.
type Result struct {
	Kind         ResultKind
	Index        int64 // 0-based position in the input; -1 when unknown
	CustomID     string
	StatusCode   int             // HTTP status; 0 when none
	Body         map[string]any  // the response body, parsed; nil when none
	RawBody      json.RawMessage // the response body as JSON text; nil when none
	RequestID    string
	ErrorCode    string
	ErrorMessage string
	Line         json.RawMessage // the raw result line; nil when Missing
}

// OK reports a successful (2xx) response.
func (r *Result) OK() bool { return r.Kind == Succeeded }

// Decode unmarshals the response body into v (a struct of your own).
func (r *Result) Decode(v any) error {
	if r.RawBody == nil {
		return &Error{Code: CodeNotFound, Op: "decode " + r.CustomID, Message: "the result has no body (" + r.Kind.String() + ")"}
	}
	return json.Unmarshal(r.RawBody, v)
}

// readResult copies a filled obatch_result_t; its strings live only until
// the next fetch / lookup on the handle.
func readResult(cr raw.Obatch_result_t) Result {
	r := Result{
		Kind:         ResultKind(cr.GetKind()),
		Index:        -1,
		CustomID:     cr.GetCustom_id(),
		StatusCode:   cr.GetStatus_code(),
		RequestID:    cr.GetRequest_id(),
		ErrorCode:    cr.GetError_code(),
		ErrorMessage: cr.GetError_message(),
	}
	if i := cr.GetIndex(); i != math.MaxUint64 && i <= math.MaxInt64 {
		r.Index = int64(i)
	}
	if cr.GetBody_len() > 0 {
		r.RawBody = json.RawMessage(cr.GetBody())
		var m map[string]any
		if json.Unmarshal(r.RawBody, &m) == nil {
			r.Body = m
		}
	}
	if cr.GetLine_len() > 0 {
		r.Line = json.RawMessage(cr.GetLine())
	}
	return r
}

// Results iterates over every result in input order, failures and
// requests without a result (Kind Missing) included:
//
//	for r, err := range b.Results() {
//		if err != nil { return err }
//		fmt.Println(r.CustomID, r.StatusCode)
//	}
//
// Each loop starts from the first result again. It yields an error (and
// stops) before the batch is done (ErrState). The handle is locked only
// while one result is read, so Lookup may be called inside the loop; two
// loops over one batch at the same time disturb each other.
func (b *Batch) Results() iter.Seq2[Result, error] {
	return func(yield func(Result, error) bool) {
		first := true
		for {
			r, done, err := b.fetch(first)
			first = false
			if done {
				return
			}
			if err != nil {
				yield(Result{}, err)
				return
			}
			if !yield(r, nil) {
				return
			}
		}
	}
}

func (b *Batch) fetch(rewind bool) (Result, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, err := b.handle("results")
	if err != nil {
		return Result{}, false, err
	}
	if rewind {
		if rc := raw.Obatch_rewind(c.h); rc < 0 {
			return Result{}, false, newError(rc, "results", raw.Obatch_last_error(c.h))
		}
	}
	rc := raw.Obatch_fetch(c.h, c.res)
	switch {
	case rc == int(CodeEnd):
		return Result{}, true, nil
	case rc < 0:
		return Result{}, false, newError(rc, "results", raw.Obatch_last_error(c.h))
	}
	return readResult(c.res), false, nil
}

// Lookup returns the result of one custom_id; ErrNotFound if the batch has
// none, ErrState before the batch is done.
func (b *Batch) Lookup(customID string) (Result, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, err := b.handle("lookup")
	if err != nil {
		return Result{}, err
	}
	if hasNUL(customID) {
		return Result{}, &Error{Code: CodeInvalid, Op: "lookup", Message: "custom_id contains a NUL byte"}
	}
	if rc := raw.Obatch_lookup(c.h, customID, c.res); rc < 0 {
		return Result{}, newError(rc, "lookup "+customID, raw.Obatch_last_error(c.h))
	}
	return readResult(c.res), nil
}
