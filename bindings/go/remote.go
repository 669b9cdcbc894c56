package obatch

import (
	"context"
	"iter"

	"github.com/obatch/obatch/bindings/go/raw"
)

// Remote calls: synchronous C calls that ask the provider now. Each runs
// with an abort token (obatch_abort_t) that ctx's end triggers, so a call in
// progress (a transfer, a back-off between retries) returns within
// milliseconds of ctx being done, with an error that matches both ErrAborted
// and ctx.Err() (errors.Is).

// abortable runs call (a C call with conf) so that ctx's end ends it.
func abortable(ctx context.Context, op string, conf uintptr, call func() (int, string)) error {
	if err := ctx.Err(); err != nil {
		return &Error{Code: CodeAborted, Op: op, cause: err}
	}
	var a uintptr
	if rc := raw.Obatch_abort_new(&a); rc < 0 || a == 0 {
		return newError(rc, op, "")
	}
	defer raw.Obatch_abort_destroy(a)
	raw.Obatch_config_set_abort(conf, a)
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		raw.Obatch_abort_trigger(a)
		close(fired)
	})
	rc, msg := call()
	if !stop() {
		<-fired // the trigger ran or runs now: let it finish before the token goes
	}
	if rc == int(CodeAborted) && ctx.Err() != nil {
		return &Error{Code: CodeAborted, Op: op, Message: msg, cause: ctx.Err()}
	}
	if rc < 0 {
		return newError(rc, op, msg)
	}
	return nil
}

// Page is one page of the provider's batches, newest first.
type Page struct {
	Batches []Info // the remote fields; Phase is Waiting, Done or Failed by the remote status
	HasMore bool   // the provider has more batches after this page
	LastID  string // pass as `after` for the next page; "" for an empty page
}

const errbufSize = 512

// readList copies every entry of an obatch_list_t and frees it.
func readList(l uintptr, op string) (Page, error) {
	defer raw.Obatch_list_destroy(l)
	ci := raw.NewObatch_info_t()
	if ci.Swigcptr() == 0 {
		return Page{}, &Error{Code: CodeNoMemory, Op: op}
	}
	defer raw.DeleteObatch_info_t(ci)
	var p Page
	for {
		rc := raw.Obatch_list_next(l, ci)
		if rc == int(CodeEnd) {
			break
		}
		if rc < 0 {
			return p, newError(rc, op, "")
		}
		p.Batches = append(p.Batches, readInfo(ci))
	}
	p.HasMore = raw.Obatch_list_has_more(l) != 0
	p.LastID = raw.Obatch_list_last_id(l)
	return p, nil
}

// ListPage fetches one page of at most limit (1..100; 0: 20) of the
// provider's batches after the batch id `after` ("" : from the newest).
// WithProvider is required.
func ListPage(ctx context.Context, after string, limit int, opts ...Option) (Page, error) {
	if limit < 0 || limit > 100 || hasNUL(after) {
		return Page{}, &Error{Code: CodeInvalid, Op: "list", Message: "limit must be 0..100"}
	}
	conf, err := newConfig(opts)
	if err != nil {
		return Page{}, err
	}
	defer raw.Obatch_config_destroy(conf)
	var l uintptr
	errbuf := make([]byte, errbufSize)
	err = abortable(ctx, "list", conf, func() (int, string) {
		rc := raw.Obatch_list(&l, conf, after, uint(limit), errbuf)
		if rc == 0 && l == 0 {
			rc = int(CodeInternal)
		}
		return rc, cString(errbuf)
	})
	if err != nil {
		return Page{}, err
	}
	return readList(l, "list")
}

// List iterates over all the provider's batches, newest first, fetching
// pages of 100 as it goes. WithProvider is required.
func List(ctx context.Context, opts ...Option) iter.Seq2[Info, error] {
	return func(yield func(Info, error) bool) {
		after := ""
		for {
			p, err := ListPage(ctx, after, 100, opts...)
			if err != nil {
				yield(Info{}, err)
				return
			}
			for _, info := range p.Batches {
				if !yield(info, nil) {
					return
				}
			}
			if !p.HasMore || p.LastID == "" {
				return
			}
			after = p.LastID
		}
	}
}

// one reads a page of one (obatch_retrieve, obatch_cancel_id).
func one(ctx context.Context, op, batchID string, opts []Option,
	f func(out *uintptr, conf uintptr, id string, errbuf []byte) int) (Info, error) {
	if batchID == "" || hasNUL(batchID) {
		return Info{}, &Error{Code: CodeInvalid, Op: op, Message: "a batch id is required"}
	}
	conf, err := newConfig(opts)
	if err != nil {
		return Info{}, err
	}
	defer raw.Obatch_config_destroy(conf)
	var l uintptr
	errbuf := make([]byte, errbufSize)
	err = abortable(ctx, op+" "+batchID, conf, func() (int, string) {
		rc := f(&l, conf, batchID, errbuf)
		if rc == 0 && l == 0 {
			rc = int(CodeInternal)
		}
		return rc, cString(errbuf)
	})
	if err != nil {
		return Info{}, err
	}
	p, err := readList(l, op)
	if err != nil {
		return Info{}, err
	}
	if len(p.Batches) == 0 {
		return Info{}, &Error{Code: CodeNotFound, Op: op + " " + batchID}
	}
	return p.Batches[0], nil
}

// Retrieve asks the provider for one batch by id (ErrNotFound if it has
// none). WithProvider is required.
func Retrieve(ctx context.Context, batchID string, opts ...Option) (Info, error) {
	return one(ctx, "retrieve", batchID, opts, raw.Obatch_retrieve)
}

// CancelBatch asks the provider to cancel a batch by id and returns its
// answer (status "cancelling", or the status it had already ended in).
// WithProvider is required.
func CancelBatch(ctx context.Context, batchID string, opts ...Option) (Info, error) {
	return one(ctx, "cancel", batchID, opts, raw.Obatch_cancel_id)
}

// ResultFiles names result files already on disk, for Open.
type ResultFiles struct {
	Input  string // the input JSONL: results come in its order; "" : file order
	Output string // the output file; may be "" (not both)
	Error  string // the error file; may be ""
}

// FromFiles reads result files that are already on disk (downloaded earlier by
// obatch or anything else): a Batch in phase Done for Results and Lookup.
// Nothing is sent.
func FromFiles(files ResultFiles, opts ...Option) (*Batch, error) {
	if hasNUL(files.Input) || hasNUL(files.Output) || hasNUL(files.Error) {
		return nil, &Error{Code: CodeInvalid, Op: "open", Message: "a NUL byte in a path"}
	}
	return construct("open", opts, func(conf uintptr, h *uintptr, errbuf []byte) int {
		// "" crosses as NULL.
		return raw.Obatch_open(h, conf, files.Input, files.Output, files.Error, errbuf)
	})
}

// Problem is one problem of an input file found by CheckFile.
type Problem struct {
	Line    uint64 // 1-based line of the file; 0: the file as a whole
	Code    Code   // CodeJSON, CodeRequest, CodeDuplicate, CodeLimit, ...
	Message string // names the file, line, field and limit
}

// Check is what CheckFile found.
type Check struct {
	Count    uint64    // how many problems the file has (kept or not)
	Problems []Problem // the kept ones, in line order
	Info     Info      // what submitting would send: provider, endpoint, model, RequestsAdded, BytesTotal
	// The batches submitting the file would make (config "split" "auto",
	// the default): each one's Model, RequestsAdded, BytesTotal and
	// TokensEstimated.
	Parts []PartInfo
}

// CheckFile checks every line of a JSONL input file as AddFile would, but
// goes on after a bad line, so one pass reports them all. Nothing is sent.
// At most maxProblems problems are kept (0: 1000). The error is for a file
// that could not be read, not for the problems.
func CheckFile(path string, maxProblems int, opts ...Option) (Check, error) {
	if hasNUL(path) || maxProblems < 0 {
		return Check{}, &Error{Code: CodeInvalid, Op: "check"}
	}
	conf, err := newConfig(opts)
	if err != nil {
		return Check{}, err
	}
	defer raw.Obatch_config_destroy(conf)
	var h uintptr
	errbuf := make([]byte, errbufSize)
	if rc := raw.Obatch_check_file(&h, conf, path, uint(maxProblems), errbuf); rc < 0 || h == 0 {
		return Check{}, newError(rc, "check "+path, cString(errbuf))
	}
	defer raw.Obatch_check_destroy(h)
	res := Check{Count: raw.Obatch_check_problems(h)}
	p := raw.NewObatch_problem_t()
	ci := raw.NewObatch_info_t()
	defer raw.DeleteObatch_problem_t(p)
	defer raw.DeleteObatch_info_t(ci)
	if p.Swigcptr() == 0 || ci.Swigcptr() == 0 {
		return Check{}, &Error{Code: CodeNoMemory, Op: "check"}
	}
	for {
		rc := raw.Obatch_check_next(h, p)
		if rc == int(CodeEnd) {
			break
		}
		if rc < 0 {
			return res, newError(rc, "check "+path, "")
		}
		res.Problems = append(res.Problems, Problem{Line: p.GetLine(), Code: Code(p.GetCode()), Message: p.GetMessage()})
	}
	if rc := raw.Obatch_check_info(h, ci); rc < 0 {
		return res, newError(rc, "check "+path, "")
	}
	res.Info = readInfo(ci)
	parts, rc := readParts(ci, func(i uint64, ci raw.Obatch_info_t) int { return raw.Obatch_check_part(h, i, ci) })
	if rc < 0 {
		return res, newError(rc, "check "+path, "")
	}
	res.Parts = parts
	return res, nil
}
