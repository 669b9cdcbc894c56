package obatch

import (
	"strings"

	"github.com/obatch/obatch/bindings/go/raw"
)

// Code is a status code of the C API (obatch_code): 0 is OK, 1 is End, and
// every error is negative. Numbers are never reused.
type Code int

// The codes of include/obatch/obatch.h (TestCodesMatchHeader checks them).
const (
	CodeOK        Code = 0
	CodeEnd       Code = 1
	CodeInvalid   Code = -1  // a bad argument
	CodeNoMemory  Code = -2  // out of memory
	CodeConfig    Code = -3  // unknown configuration key or bad value
	CodeJSON      Code = -4  // text that is not valid JSON
	CodeRequest   Code = -5  // a request that the provider would reject
	CodeDuplicate Code = -6  // a custom_id that the batch already has
	CodeLimit     Code = -7  // over a provider limit (requests, bytes)
	CodeModel     Code = -8  // a second model where only one is allowed
	CodeState     Code = -9  // not allowed in the batch's current phase
	CodeIO        Code = -10 // a local file could not be read or written
	CodeProvider  Code = -11 // unknown provider, or none claims the model
	CodeAuth      Code = -12 // missing API key, or the server refused it
	CodeNetwork   Code = -13 // connection or timeout, retries exhausted
	CodeHTTP      Code = -14 // the API answered with an error
	CodeProtocol  Code = -15 // the API answered something unexpected
	CodeInsecure  Code = -16 // plain http:// to a host that is not loopback
	CodeTimeout   Code = -17 // a wait ran out of time; the batch goes on
	CodeNotFound  Code = -18 // no such custom_id / batch
	CodeFailed    Code = -19 // the batch ended "failed" (validation)
	CodeExpired   Code = -20 // the batch ended "expired"; partial results
	CodeCancelled Code = -21 // the batch ended "cancelled"; partial results
	CodeInternal  Code = -22 // a bug in obatch; please report it
	CodeAborted   Code = -23 // the call was ended: its ctx was done
)

// String names the code, as obatch_strerror does ("invalid argument", ...).
func (c Code) String() string { return raw.Obatch_strerror(int(c)) }

// Error is every error that comes from libobatch. Compare with the sentinels:
//
//	if errors.Is(err, obatch.ErrLimit) { ... }
//
// or take it apart with errors.As(err, &e) for the code, the operation and
// the library's message (which never contains an API key).
type Error struct {
	Code    Code   // the obatch_code, always negative
	Op      string // what was being done: "add", "submit", "wait", "config provider", ...
	Message string // obatch_last_error() or the config error text; may be ""
	cause   error  // a Go-side cause (encoding/json), if any
}

func (e *Error) Error() string {
	var sb strings.Builder
	sb.WriteString("obatch: ")
	if e.Op != "" {
		sb.WriteString(e.Op)
		sb.WriteString(": ")
	}
	if e.Message != "" {
		sb.WriteString(e.Message)
	} else {
		sb.WriteString(e.Code.String())
	}
	return sb.String()
}

// Is reports whether target is the sentinel of e's code (ErrLimit, ...).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Op == "" && t.Message == "" && t.cause == nil && t.Code == e.Code
}

// Unwrap returns the Go error behind e (a JSON encoding error), or nil.
func (e *Error) Unwrap() error { return e.cause }

// Sentinels, one per error code, for errors.Is.
var (
	ErrInvalid   = &Error{Code: CodeInvalid}
	ErrNoMemory  = &Error{Code: CodeNoMemory}
	ErrConfig    = &Error{Code: CodeConfig}
	ErrJSON      = &Error{Code: CodeJSON}
	ErrRequest   = &Error{Code: CodeRequest}
	ErrDuplicate = &Error{Code: CodeDuplicate}
	ErrLimit     = &Error{Code: CodeLimit}
	ErrModel     = &Error{Code: CodeModel}
	ErrState     = &Error{Code: CodeState}
	ErrIO        = &Error{Code: CodeIO}
	ErrProvider  = &Error{Code: CodeProvider}
	ErrAuth      = &Error{Code: CodeAuth}
	ErrNetwork   = &Error{Code: CodeNetwork}
	ErrHTTP      = &Error{Code: CodeHTTP}
	ErrProtocol  = &Error{Code: CodeProtocol}
	ErrInsecure  = &Error{Code: CodeInsecure}
	ErrTimeout   = &Error{Code: CodeTimeout}
	ErrNotFound  = &Error{Code: CodeNotFound}
	ErrFailed    = &Error{Code: CodeFailed}
	ErrExpired   = &Error{Code: CodeExpired}
	ErrCancelled = &Error{Code: CodeCancelled}
	ErrInternal  = &Error{Code: CodeInternal}
	ErrAborted   = &Error{Code: CodeAborted}
)

// newError makes the error of a failed call; a non-negative rc is a bug.
func newError(rc int, op, message string) error {
	c := Code(rc)
	if c >= 0 {
		c = CodeInternal
	}
	return &Error{Code: c, Op: op, Message: message}
}

// cString reads the NUL-terminated text C wrote into buf.
func cString(buf []byte) string {
	if i := strings.IndexByte(string(buf), 0); i >= 0 {
		return string(buf[:i])
	}
	return string(buf)
}

// hasNUL reports a string that C would cut short.
func hasNUL(s string) bool { return strings.IndexByte(s, 0) >= 0 }
