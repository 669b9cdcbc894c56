package obatch

import (
	"encoding/json"
	"time"

	"github.com/obatch/obatch/bindings/go/raw"
)

// The job journal: every Submit is journaled (SQLite) before and after each
// step, so the same input submitted again takes its job up where it stopped
// instead of paying for a second batch. The journal is WithState's path,
// else $OBATCH_STATE, else $XDG_STATE_HOME/obatch/jobs.db, else
// ~/.local/state/obatch/jobs.db.

// WithState sets the job journal's path ("off": no journal).
func WithState(path string) Option { return func(c *config) { c.set("state", path) } }

// WithForceNew(true) submits as a new job even when the journal has one for
// the same input (the default resumes it).
func WithForceNew(force bool) Option {
	return func(c *config) {
		if force {
			c.set("force_new", "1")
		} else {
			c.set("force_new", "0")
		}
	}
}

// Job is one job of the journal (obatch_job_t), copied into Go memory.
// Strings are "" when unknown.
type Job struct {
	ID           string // 24 hex; the batch's "obatch_job" metadata value
	Step         string // new, uploading, uploaded, creating, created, downloading, done, failed, abandoned
	Provider     string
	BaseURL      string
	Endpoint     string
	Model        string
	SourcePath   string // the input file, if the requests came from one (AddFile)
	InputSHA256  string // of the submitted input bytes
	InputFileID  string
	BatchID      string
	RemoteStatus string // as last seen
	OutputFileID string
	ErrorFileID  string
	OutputPath   string // the result files on disk, once downloaded
	ErrorPath    string
	ErrorMessage string // the last failure
	RetryOf      string // the job whose missing requests these are (RetryMissing)
	Requests     uint64
	InputBytes   uint64
	CreatedAt    time.Time
	UpdatedAt    time.Time
	Running      bool   // a live process holds the job
	PID          int64  // that process; 0 when none
	Parts        uint64 // batches of a job cut into several; 0: one batch (BatchID)
	// Those batches as a JSON array in input order ("[]" for one batch):
	// [{"index", "model", "requests", "step", "batch_id", "remote_status",
	// "attempt", "error"}].
	PartsJSON json.RawMessage
}

// Journal is what ListJobs read.
type Journal struct {
	Path string // the journal's file
	Jobs []Job  // newest first
}

func readJob(cj raw.Obatch_job_t) Job {
	return Job{
		ID:           cj.GetId(),
		Step:         cj.GetStep(),
		Provider:     cj.GetProvider(),
		BaseURL:      cj.GetBase_url(),
		Endpoint:     cj.GetEndpoint(),
		Model:        cj.GetModel(),
		SourcePath:   cj.GetSource_path(),
		InputSHA256:  cj.GetInput_sha256(),
		InputFileID:  cj.GetInput_file_id(),
		BatchID:      cj.GetBatch_id(),
		RemoteStatus: cj.GetRemote_status(),
		OutputFileID: cj.GetOutput_file_id(),
		ErrorFileID:  cj.GetError_file_id(),
		OutputPath:   cj.GetOutput_path(),
		ErrorPath:    cj.GetError_path(),
		ErrorMessage: cj.GetError_message(),
		RetryOf:      cj.GetRetry_of(),
		Requests:     cj.GetRequests(),
		InputBytes:   cj.GetInput_bytes(),
		CreatedAt:    unixTime(cj.GetCreated_at()),
		UpdatedAt:    unixTime(cj.GetUpdated_at()),
		Running:      cj.GetRunning() != 0,
		PID:          cj.GetPid(),
		Parts:        cj.GetParts(),
		PartsJSON:    json.RawMessage(cj.GetParts_json()),
	}
}

// ListJobs reads every job of the journal (WithState, else the default
// one), newest first. ErrState when the journal is off.
func ListJobs(opts ...Option) (Journal, error) {
	conf, err := newConfig(opts)
	if err != nil {
		return Journal{}, err
	}
	defer raw.Obatch_config_destroy(conf)
	var h uintptr
	errbuf := make([]byte, errbufSize)
	if rc := raw.Obatch_jobs_open(&h, conf, errbuf); rc < 0 || h == 0 {
		return Journal{}, newError(rc, "jobs", cString(errbuf))
	}
	defer raw.Obatch_jobs_destroy(h)
	cj := raw.NewObatch_job_t()
	if cj.Swigcptr() == 0 {
		return Journal{}, &Error{Code: CodeNoMemory, Op: "jobs"}
	}
	defer raw.DeleteObatch_job_t(cj)
	j := Journal{Path: raw.Obatch_jobs_path(h)}
	for {
		rc := raw.Obatch_jobs_next(h, cj)
		if rc == int(CodeEnd) {
			return j, nil
		}
		if rc < 0 {
			return j, newError(rc, "jobs", "")
		}
		j.Jobs = append(j.Jobs, readJob(cj))
	}
}

// PruneJobs forgets the ended jobs (done, failed, abandoned) that no live
// process holds, and returns how many; their result files stay.
func PruneJobs(opts ...Option) (uint64, error) {
	conf, err := newConfig(opts)
	if err != nil {
		return 0, err
	}
	defer raw.Obatch_config_destroy(conf)
	var pruned uint64
	errbuf := make([]byte, errbufSize)
	if rc := raw.Obatch_jobs_prune(conf, &pruned, errbuf); rc < 0 {
		return 0, newError(rc, "prune jobs", cString(errbuf))
	}
	return pruned, nil
}

// RetryMissing makes a new batch (phase Building, not submitted) of the
// requests of an ended job that have no result (its batch expired or was
// cancelled), read again from the job's input file (its requests came from
// AddFile). jobID is a job id, a unique prefix of one (4+ characters) or a
// batch id. Provider, base URL and endpoint default to the job's.
// ErrNotFound for an unknown job; ErrState when it has not ended or nothing
// is missing.
func RetryMissing(jobID string, opts ...Option) (*Batch, error) {
	if jobID == "" || hasNUL(jobID) {
		return nil, &Error{Code: CodeInvalid, Op: "retry", Message: "a job id is required"}
	}
	return construct("retry "+jobID, opts, func(conf uintptr, h *uintptr, errbuf []byte) int {
		return raw.Obatch_retry_missing(h, conf, jobID, errbuf)
	})
}
